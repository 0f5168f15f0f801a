import type { DesiredStateBody } from '@loa/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedTree, startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

let t: TestPlane

interface RelayReply {
  id: string
  priority: number
  code?: string
  message?: string
}

const DAILY = { kind: 'weekly', daysOfWeek: [1, 2, 3, 4, 5, 6, 7], times: ['06:00'], startDate: '2026-01-01' }
const create = (body: Record<string, unknown>) =>
  t.api<RelayReply>('POST', '/api/relays', {
    title: 'Thời sự VOV1',
    sourceUrl: 'https://stream.example.vn/vov1',
    recurrence: DAILY,
    durationS: 1800,
    targets: { units: ['xa-a'] },
    ...body,
  })
const desired = async (id: string) =>
  (await t.api<DesiredStateBody & { version: number }>('GET', `/api/clusters/${id}/desired-state`)).body
const relayIdsIn = async (id: string) => ((await desired(id)).relays ?? []).map((r) => r.id)

beforeAll(async () => {
  t = await startTestPlane()
  await seedTree(t)
})
afterAll(async () => {
  await t?.close()
})

describe('recurring relays', () => {
  it('reach exactly the desired states of their targets (unit subtree, tags, clusters)', async () => {
    const before = await desired('c-b')
    const byUnit = await create({ id: 'r-news' })
    expect(byUnit.status).toBe(201)
    expect(byUnit.body).toMatchObject({ id: 'r-news', priority: 60 })
    expect(await relayIdsIn('c-a')).toEqual(['r-news'])
    expect(await relayIdsIn('c-a1')).toEqual(['r-news'])
    expect(await relayIdsIn('c-b')).toEqual([])
    // A state that carries no relay keeps its hash, so its version does not move.
    const after = await desired('c-b')
    expect(after.version).toBe(before.version)
    expect('relays' in after).toBe(false)
    expect((await desired('c-a')).relays?.[0]).toEqual({
      id: 'r-news',
      title: 'Thời sự VOV1',
      sourceUrl: 'https://stream.example.vn/vov1',
      priority: 60,
      recurrence: DAILY,
      durationS: 1800,
    })

    const byTag = await create({ id: 'r-coast', targets: { tags: ['coast'] }, priority: 90, volume: 70 })
    const byCluster = await create({ id: 'r-one', targets: { clusters: ['c-a1'] } })
    expect([byTag.status, byCluster.status]).toEqual([201, 201])
    expect(await relayIdsIn('c-a')).toEqual(['r-news'])
    expect(await relayIdsIn('c-a1')).toEqual(['r-news', 'r-one'])
    expect(await relayIdsIn('c-b')).toEqual(['r-coast'])
    expect((await desired('c-b')).relays?.[0]).toMatchObject({ priority: 90, volume: 70 })

    const list = await t.api<{ relays: { id: string }[] }>('GET', '/api/relays')
    expect(list.body.relays.map((r) => r.id)).toEqual(['r-news', 'r-coast', 'r-one'])

    expect((await t.api('DELETE', '/api/relays/r-news')).status).toBe(204)
    expect(await relayIdsIn('c-a')).toEqual([])
    expect(await relayIdsIn('c-a1')).toEqual(['r-one'])
    expect('relays' in (await desired('c-a'))).toBe(false)
    expect((await t.api('DELETE', '/api/relays/r-news')).status).toBe(404)
  })

  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'an impossible recurrence (31 February)',
      { recurrence: { ...DAILY, startDate: '2027-02-31' } },
      /^recurrence\.startDate: 2027-02-31 is not a real date/,
    ],
    ['a malformed time', { recurrence: { ...DAILY, times: ['25:00'] } }, /^recurrence\.times\[0\]/],
    ['an unknown recurrence kind', { recurrence: { kind: 'hourly' } }, /^recurrence\.kind/],
    [
      'an interval ending before it starts',
      {
        recurrence: {
          kind: 'interval',
          daysOfWeek: [1],
          everyMinutes: 60,
          from: '10:00',
          until: '08:00',
          startDate: '2026-01-01',
        },
      },
      /^recurrence\.until/,
    ],
    ['a file source', { sourceUrl: 'file:///etc/passwd' }, /^sourceUrl: only network streams/],
    ['an ffmpeg pseudo-protocol', { sourceUrl: 'concat:/etc/passwd' }, /^sourceUrl/],
    ['a duration too short', { durationS: 5 }, /^durationS/],
    ['the emergency band', { priority: 230 }, /^priority/],
    ['no targets', { targets: {} }, /^targets/],
    ['an unknown unit', { targets: { units: ['ghost'] } }, /^targets\.units\[0\]/],
  ]
  for (const [name, patch, field] of cases) {
    it(`refuses ${name}, naming the field`, async () => {
      const r = await create(patch)
      expect(r.status).toBe(400)
      expect(r.body.code).toBe('LOA_RELAY_INVALID')
      expect(r.body.message).toMatch(field)
    })
  }

  it('refuses a repeated id', async () => {
    expect((await create({ id: 'r-dup' })).status).toBe(201)
    expect((await create({ id: 'r-dup' })).status).toBe(409)
  })
})
