import fs from 'node:fs'
import { DateTime } from 'luxon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'
import { splitAround } from './split.js'

const TZ = 'Asia/Ho_Chi_Minh'
let t: TestPlane
let normal: string
let priority: string
const day = (n: number) => DateTime.now().setZone(TZ).startOf('day').plus({ days: n })
const at = (n: number, hh: number, mm = 0, ss = 0) =>
  day(n).set({ hour: hh, minute: mm, second: ss }).toUTC().toISO() as string
const iso = (n: number, hh: number, mm = 0, ss = 0) => new Date(at(n, hh, mm, ss)).toISOString()

interface Occ {
  key: string
  id: string
  start: string
  priority: number
  clusterIds: string[]
  conflict: boolean
}
interface Cal {
  occurrences: Occ[]
  conflicts: { a: string; b: string; winner: string; reason: string; clusterIds: string[] }[]
}

beforeAll(async () => {
  t = await startTestPlane()
  await seedTree(t)
  const m = await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'a.wav', { seconds: 2 })))
  for (const level of ['normal', 'priority']) {
    const b = await t.api<{ id: string }>('POST', '/api/bulletins', {
      title: level,
      level,
      mediaSha256: m.body.sha256,
    })
    if (level === 'normal') normal = b.body.id
    else priority = b.body.id
  }
  const weekly = await t.api('POST', '/api/schedules', {
    id: 's-daily',
    bulletinId: normal,
    recurrence: {
      kind: 'weekly',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      times: ['08:00'],
      startDate: day(1).toISODate(),
      endDate: day(3).toISODate(),
    },
    targets: { units: ['xa-a'] },
  })
  expect(weekly.status).toBe(201)
  const once = await t.api('POST', '/api/schedules', {
    id: 's-once',
    bulletinId: priority,
    recurrence: { kind: 'once', at: iso(1, 8, 0, 1) },
    targets: { clusters: ['c-a'] },
  })
  expect(once.status).toBe(201)
})
afterAll(async () => {
  await t?.close()
})

const calendar = (q: string) => t.api<Cal>('GET', `/api/calendar?${q}`)

describe('calendar', () => {
  it('expands occurrences in local time for a unit and flags overlaps with the band that wins', async () => {
    const r = await calendar(`unitId=xa-a&from=${day(0).toISODate()}&to=${day(5).toISODate()}`)
    expect(r.status).toBe(200)
    const daily = r.body.occurrences.filter((o) => o.id === 's-daily')
    expect(daily.map((o) => o.start)).toEqual([iso(1, 8), iso(2, 8), iso(3, 8)])
    expect(daily[0]?.clusterIds.sort()).toEqual(['c-a', 'c-a1'])
    const once = r.body.occurrences.find((o) => o.id === 's-once') as Occ
    expect(once.clusterIds).toEqual(['c-a'])
    expect(once.conflict).toBe(true)
    expect(r.body.conflicts).toEqual([
      {
        a: `s-daily@${iso(1, 8)}`,
        b: `s-once@${iso(1, 8, 0, 1)}`,
        winner: `s-once@${iso(1, 8, 0, 1)}`,
        reason: 'higher band preempts',
        clusterIds: ['c-a'],
      },
    ])
    const b = await calendar(`clusterId=c-b&from=${day(0).toISODate()}&to=${day(5).toISODate()}`)
    expect(b.body.occurrences).toEqual([])
  })

  it('refuses bad ranges and ambiguous targets', async () => {
    for (const q of [
      'unitId=xa-a&from=2026-02-30',
      'unitId=xa-a&from=yesterday',
      `unitId=xa-a&from=${day(3).toISODate()}&to=${day(1).toISODate()}`,
      `unitId=xa-a&from=${day(0).toISODate()}&to=${day(90).toISODate()}`,
      'unitId=xa-a&clusterId=c-a',
      'from=2026-01-01',
    ]) {
      const r = await t.api<{ code: string }>('GET', `/api/calendar?${q}`)
      expect(r.status, q).toBe(400)
      expect(r.body.code).toBe('LOA_CALENDAR_INVALID')
    }
    expect((await calendar('unitId=nope')).status).toBe(404)
  })

  it('moves one occurrence of a recurring schedule by splitting it, and refuses a move onto another', async () => {
    const clash = await t.api<{ code: string }>('POST', '/api/schedules/s-daily/move', {
      occurrence: iso(2, 8),
      to: iso(1, 8, 0, 1),
    })
    expect(clash.status).toBe(409)
    expect(clash.body.code).toBe('LOA_CALENDAR_CONFLICT')
    const notOne = await t.api<{ code: string }>('POST', '/api/schedules/s-daily/move', {
      occurrence: iso(2, 8, 30),
      to: iso(2, 9),
    })
    expect(notOne.status).toBe(400)
    expect(notOne.body.code).toBe('LOA_CALENDAR_INVALID')
    expect(
      (await t.api('POST', '/api/schedules/s-daily/move', { occurrence: iso(2, 8), to: 'soon' })).status,
    ).toBe(400)
    const past = await t.api('POST', '/api/schedules/s-daily/move', { occurrence: iso(2, 8), to: iso(-2, 8) })
    expect(past.status).toBe(400)
    const r = await t.api<{ schedules: { id: string }[] }>('POST', '/api/schedules/s-daily/move', {
      occurrence: iso(2, 8),
      to: iso(2, 9),
    })
    expect(r.status).toBe(200)
    expect(r.body.schedules.length).toBe(3)
    const cal = await calendar(`unitId=xa-a&from=${day(0).toISODate()}&to=${day(5).toISODate()}`)
    const starts = cal.body.occurrences.filter((o) => o.priority === 50).map((o) => o.start)
    expect(starts).toEqual([iso(1, 8), iso(2, 9), iso(3, 8)])
  })

  it('cancels one occurrence or a whole schedule', async () => {
    const r = await t.api('POST', '/api/schedules/s-daily/cancel', { occurrence: iso(1, 8) })
    expect(r.status).toBe(200)
    let cal = await calendar(`unitId=xa-a&from=${day(0).toISODate()}&to=${day(5).toISODate()}`)
    expect(cal.body.occurrences.filter((o) => o.priority === 50).map((o) => o.start)).toEqual([
      iso(2, 9),
      iso(3, 8),
    ])
    expect(cal.body.conflicts).toEqual([])
    const whole = await t.api<{ removed: string[] }>('POST', '/api/schedules/s-once/cancel', {})
    expect(whole.body.removed).toEqual(['s-once'])
    cal = await calendar(`clusterId=c-a&from=${day(0).toISODate()}&to=${day(5).toISODate()}`)
    expect(cal.body.occurrences.some((o) => o.id === 's-once')).toBe(false)
    expect((await t.api('POST', '/api/schedules/s-once/cancel', {})).status).toBe(404)
  })

  it('leaves past one-off schedules out of desired states but keeps them on record', async () => {
    const r = await t.api('POST', '/api/schedules', {
      id: 's-past',
      bulletinId: normal,
      recurrence: { kind: 'once', at: new Date(Date.now() - 3 * 3_600_000).toISOString() },
      targets: { clusters: ['c-b'] },
    })
    expect(r.status).toBe(201)
    const soon = await t.api('POST', '/api/schedules', {
      id: 's-recent',
      bulletinId: normal,
      recurrence: { kind: 'once', at: new Date(Date.now() - 10 * 60_000).toISOString() },
      targets: { clusters: ['c-b'] },
    })
    expect(soon.status).toBe(201)
    const d = await t.api<{ schedule: { id: string }[] }>('GET', '/api/clusters/c-b/desired-state')
    expect(d.body.schedule.map((e) => e.id)).toEqual(['s-recent'])
    expect((await t.api('GET', '/api/schedules/s-past')).status).toBe(200)
  })
})

describe('splitAround', () => {
  it('keeps every other occurrence of an interval recurrence on that day', () => {
    const r = {
      kind: 'interval' as const,
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      everyMinutes: 30,
      from: '06:00',
      until: '08:00',
      startDate: '2026-12-01',
      endDate: '2026-12-03',
    }
    const occ = DateTime.fromISO('2026-12-02T07:00', { zone: TZ }).toJSDate()
    const parts = splitAround(r, occ, TZ)
    expect(parts).toEqual([
      { ...r, endDate: '2026-12-01' },
      { ...r, daysOfWeek: [3], startDate: '2026-12-02', endDate: '2026-12-02', until: '07:00' },
      { ...r, daysOfWeek: [3], startDate: '2026-12-02', endDate: '2026-12-02', from: '07:30' },
      { ...r, startDate: '2026-12-03' },
    ])
  })
})
