import { DESIRED_BODY_MAX_BYTES, DESIRED_LIMITS, DesiredStateBody } from '@loa/shared'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { describe, expect, it } from 'vitest'
import { DesiredValidator } from './check.js'

/**
 * The validator the control plane runs on every compiled state checks shared entries once (desired/check.ts); its
 * verdict must be the agents' own: the same TypeBox schema applied to the whole body.
 */

const whole = TypeCompiler.Compile(DesiredStateBody)
const sha = (i: number) => i.toString(16).padStart(64, '0')
const media = (i: number) => ({
  sha256: sha(i),
  size: 1000,
  url: `/media/${sha(i)}`,
  mime: 'audio/ogg',
  durationMs: 1,
})
const entry = (i: number) => ({
  id: `s-${i}`,
  title: `Tin ${i}`,
  level: 'normal',
  priority: 50,
  items: [sha(1)],
  recurrence: { kind: 'weekly', daysOfWeek: [1, 2], times: ['06:00'], startDate: '2026-01-01' },
})
const valid = () => ({
  version: 3,
  generatedAt: '2026-01-01T00:00:00Z',
  deviceId: 'c-1',
  timezone: 'Asia/Ho_Chi_Minh',
  units: ['tinh', 'xa-1'],
  volume: 80,
  media: [media(1), media(2)],
  schedule: [entry(1), entry(2)],
  fallback: { items: [sha(2)], windows: [{ daysOfWeek: [1], from: '08:00', until: '09:00' }] },
})

type Body = ReturnType<typeof valid> & Record<string, unknown>
const mutations: [string, (b: Body) => void][] = [
  ['nothing', () => {}],
  ['an entry with a bad sha', (b) => ((b.schedule[1] as { items: string[] }).items = ['XYZ'])],
  ['an entry title too long', (b) => ((b.schedule[0] as { title: string }).title = 'x'.repeat(201))],
  [
    'an entry with duplicate days',
    (b) => (b.schedule[0] as { recurrence: { daysOfWeek: number[] } }).recurrence.daysOfWeek.push(1),
  ],
  ['an entry without items', (b) => ((b.schedule[0] as { items: string[] }).items = [])],
  ['an entry with an unknown level', (b) => ((b.schedule[0] as { level: string }).level = 'loud')],
  ['a media size of zero', (b) => ((b.media[0] as { size: number }).size = 0)],
  ['a media url too long', (b) => ((b.media[1] as { url: string }).url = `/${'u'.repeat(2048)}`)],
  ['a bad time zone type', (b) => ((b as { timezone: unknown }).timezone = 7)],
  ['a volume over 100', (b) => ((b as { volume: number }).volume = 101)],
  ['a bad unit id', (b) => (b.units[0] = 'no spaces allowed')],
  ['a fallback window hour 24', (b) => ((b.fallback.windows[0] as { from: string }).from = '24:00')],
  ['a version of zero', (b) => ((b as { version: number }).version = 0)],
  ['alerts of the wrong shape', (b) => (b.alerts = [{ alertId: 'a' }])],
  ['relays as an object', (b) => (b.relays = {})],
  [
    'too many entries',
    (b) => (b.schedule = Array.from({ length: DESIRED_LIMITS.schedule + 1 }, (_, i) => entry(i))),
  ],
  ['too many units', (b) => (b.units = Array.from({ length: DESIRED_LIMITS.units + 1 }, (_, i) => `u-${i}`))],
  [
    'too many fallback windows',
    (b) => (b.fallback.windows = Array(DESIRED_LIMITS.fallbackWindows + 1).fill(b.fallback.windows[0])),
  ],
  [
    'too many items in an entry',
    (b) =>
      ((b.schedule[0] as { items: string[] }).items = Array(DESIRED_LIMITS.itemsPerEntry + 1).fill(sha(1))),
  ],
]

describe('the control plane checks compiled states as the agents do', () => {
  it.each(mutations)('gives the agents’ verdict for a state with %s', (_name, mutate) => {
    const body = valid() as Body
    mutate(body)
    const bytes = Buffer.byteLength(JSON.stringify(body))
    const problem = new DesiredValidator(DESIRED_BODY_MAX_BYTES).check(body as never, bytes)
    expect(problem === null).toBe(whole.Check(body))
  })

  it('checks entries shared by many states once, and still finds a bad one among them', () => {
    const v = new DesiredValidator(DESIRED_BODY_MAX_BYTES)
    const shared = Array.from({ length: 500 }, (_, i) => entry(i))
    const states = Array.from({ length: 50 }, (_, c) => ({
      ...valid(),
      deviceId: `c-${c}`,
      schedule: shared,
    }))
    for (const s of states) expect(v.check(s as never, 0)).toBeNull()
    const bad = { ...valid(), schedule: [...shared, { ...entry(9), priority: 256 }] }
    expect(v.check(bad as never, 0)).toMatchObject({
      limit: 'schema',
      detail: expect.stringMatching(/^schedule\.500\.priority: /),
    })
  })

  it('names the limit and the counts for a state over one', () => {
    const v = new DesiredValidator(1000)
    const body = valid()
    expect(v.check(body as never, 1001)).toMatchObject({
      limit: 'maxBytes',
      detail: 'body: 1001 bytes (2 schedule entries, 2 media files), the limit is 1000',
    })
    body.schedule = Array.from({ length: DESIRED_LIMITS.schedule + 4 }, (_, i) => entry(i))
    expect(v.check(body as never, 10)).toEqual({
      limit: 'schedule',
      detail: `schedule: ${DESIRED_LIMITS.schedule + 4} schedule entries, the limit is ${DESIRED_LIMITS.schedule}`,
    })
  })
})
