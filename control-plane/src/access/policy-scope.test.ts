import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPolicyPlane } from '../../test-kit/policy-seed.js'
import type { ApiCall, TestPlane } from '../../test-kit/test-helpers.js'

/**
 * Scope boundaries, enforced by the API: a commune operator of xa-an-binh can neither see nor act on xa-hoa-phu,
 * by id or in lists (docs/users-and-roles.md). Authentication and roles are in policy.test.ts.
 */

let t: TestPlane
let ab: ApiCall
let provOp: ApiCall
let sha: string
let ids: Record<string, string>

const idsOf = (list: { id: string }[]) => list.map((x) => x.id).sort()

beforeAll(async () => {
  ;({ t, ab, provOp, sha, ids } = await startPolicyPlane())
}, 60_000)
afterAll(async () => {
  await t?.close()
})

describe('commune operator of xa-an-binh', () => {
  it('reads its own subtree and province-wide schedules', async () => {
    for (const url of [
      '/api/units/xa-an-binh',
      '/api/units/thon-ab1',
      '/api/clusters/c-ab1',
      '/api/schedules/s-ab',
    ]) {
      expect((await ab('GET', url)).status, url).toBe(200)
    }
    expect((await ab('GET', '/api/schedules/s-prov')).status).toBe(200)
    expect((await ab('GET', '/api/clusters/c-ab/desired-state')).status).toBe(200)
  })

  it('gets 404 for every single resource of xa-hoa-phu', async () => {
    for (const url of [
      '/api/units/xa-hoa-phu',
      '/api/units/xa-hoa-phu/fallback',
      '/api/clusters/c-hp',
      '/api/clusters/c-hp/desired-state',
      '/api/clusters/c-hp/telemetry',
      '/api/schedules/s-hp',
      `/api/alerts/${ids.alert}`,
      `/api/alerts/${ids.alert}/stream`,
      `/api/lives/${ids.live}`,
      `/api/lives/${ids.live}/stream`,
      '/api/relays/r-hp',
      '/api/bulletins/b-hp',
      `/api/commands/${ids.command}`,
    ]) {
      const r = await ab('GET', url)
      expect(r.status, url).toBe(404)
      expect((r.body as { code: string }).code).toBe('LOA_NOT_FOUND')
    }
  })

  it('sees only its subtree in every list', async () => {
    type L = { id: string }[]
    expect(idsOf((await ab<{ units: L }>('GET', '/api/units')).body.units)).toEqual([
      'thon-ab1',
      'xa-an-binh',
    ])
    expect(idsOf((await ab<{ clusters: L }>('GET', '/api/clusters')).body.clusters)).toEqual([
      'c-ab',
      'c-ab1',
    ])
    expect((await ab<{ clusters: L }>('GET', '/api/clusters?unitId=xa-hoa-phu')).body.clusters).toEqual([])
    expect((await ab<{ clusters: L }>('GET', '/api/clusters?unitId=prov')).body.clusters).toHaveLength(2)
    expect((await ab<{ stations: L }>('GET', '/api/stations')).body.stations).toEqual([])
    expect(idsOf((await ab<{ schedules: L }>('GET', '/api/schedules')).body.schedules)).toEqual([
      's-ab',
      's-prov',
    ])
    expect((await ab<{ alerts: L }>('GET', '/api/alerts')).body.alerts).toEqual([])
    expect((await ab<{ lives: L }>('GET', '/api/lives')).body.lives).toEqual([])
    expect((await ab<{ relays: L }>('GET', '/api/relays')).body.relays).toEqual([])
    expect(idsOf((await ab<{ bulletins: L }>('GET', '/api/bulletins')).body.bulletins)).toEqual(['b1'])
    expect(idsOf((await provOp<{ bulletins: L }>('GET', '/api/bulletins')).body.bulletins)).toEqual([
      'b-hp',
      'b1',
    ])
    type P = { plays: { clusterId: string }[] }
    expect((await ab<P>('GET', '/api/plays')).body.plays.map((p) => p.clusterId)).toEqual(['c-ab'])
    expect((await ab<P>('GET', '/api/plays?unitId=xa-hoa-phu')).body.plays).toEqual([])
    expect((await ab<P>('GET', '/api/plays?clusterId=c-hp')).body.plays).toEqual([])
    expect((await ab<P>('GET', '/api/plays?unitId=prov')).body.plays).toHaveLength(1)
    const events = (await ab<{ events: { clusterId: string }[] }>('GET', '/api/events')).body.events
    expect(events.every((e) => e.clusterId !== 'c-hp')).toBe(true)
    // The province operator sees everything.
    expect((await provOp<{ alerts: L }>('GET', '/api/alerts')).body.alerts).toHaveLength(1)
    expect((await provOp<P>('GET', '/api/plays')).body.plays).toHaveLength(2)
  })

  it('cannot act on xa-hoa-phu, by body target (403) or by id (404)', async () => {
    const weekly = { kind: 'weekly', daysOfWeek: [2], times: ['07:00'], startDate: '2026-01-01' }
    const refused: [string, string, unknown, number][] = [
      [
        'POST',
        '/api/schedules',
        { bulletinId: 'b1', recurrence: weekly, targets: { units: ['xa-hoa-phu'] } },
        403,
      ],
      [
        'POST',
        '/api/schedules',
        { bulletinId: 'b1', recurrence: weekly, targets: { clusters: ['c-hp'] } },
        403,
      ],
      ['POST', '/api/schedules', { bulletinId: 'b1', recurrence: weekly, targets: { units: ['prov'] } }, 403],
      [
        'POST',
        '/api/schedules',
        { bulletinId: 'b1', recurrence: weekly, targets: { tags: ['market'] } },
        403,
      ],
      ['POST', '/api/alerts', { title: 'x', mediaSha256s: [sha], targets: { units: ['xa-hoa-phu'] } }, 403],
      [
        'POST',
        '/api/alerts',
        {
          title: 'x',
          mediaSha256s: [sha],
          targets: { area: { circle: { lat: 10, lon: 105, radiusKm: 5 } } },
        },
        403,
      ],
      [
        'POST',
        '/api/lives',
        { title: 'x', sourceUrl: 'http://r.example.vn/a', targets: { clusters: ['c-hp'] } },
        403,
      ],
      [
        'POST',
        '/api/relays',
        {
          title: 'x',
          sourceUrl: 'http://r.example.vn/a',
          recurrence: weekly,
          durationS: 60,
          targets: { units: ['xa-hoa-phu'] },
        },
        403,
      ],
      ['DELETE', '/api/schedules/s-hp', undefined, 404],
      ['DELETE', '/api/schedules/s-prov', undefined, 403],
      ['POST', `/api/alerts/${ids.alert}/cancel`, undefined, 404],
      ['PUT', `/api/alerts/${ids.alert}`, { title: 'changed' }, 404],
      ['POST', `/api/lives/${ids.live}/stop`, undefined, 404],
      ['DELETE', '/api/relays/r-hp', undefined, 404],
      ['POST', '/api/clusters/c-hp/commands', { kind: 'ping' }, 404],
      ['PUT', '/api/units/xa-hoa-phu/fallback', { bulletinIds: ['b1'], windows: [] }, 404],
      ['DELETE', '/api/units/xa-hoa-phu/fallback', undefined, 404],
      ['POST', '/api/cap', undefined, 403],
    ]
    for (const [method, url, body, status] of refused) {
      const r = await ab(method, url, body)
      expect(r.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(status)
    }
    // Nothing out of scope changed.
    expect((await t.api('GET', '/api/schedules/s-hp')).status).toBe(200)
    expect((await t.api('GET', '/api/schedules/s-prov')).status).toBe(200)
    expect(
      (await t.api<{ alert: { state: string } }>('GET', `/api/alerts/${ids.alert}`)).body.alert.state,
    ).toBe('active')
    expect((await t.api<{ live: { state: string } }>('GET', `/api/lives/${ids.live}`)).body.live.state).toBe(
      'active',
    )
    expect((await t.api('GET', '/api/units/xa-hoa-phu/fallback')).status).toBe(200)
  })

  it('acts inside its scope', async () => {
    const weekly = { kind: 'weekly', daysOfWeek: [2], times: ['07:00'], startDate: '2026-01-01' }
    const s = await ab<{ id: string }>('POST', '/api/schedules', {
      bulletinId: 'b1',
      recurrence: weekly,
      targets: { units: ['thon-ab1'], clusters: ['c-ab'] },
    })
    expect(s.status).toBe(201)
    expect((await ab('DELETE', `/api/schedules/${s.body.id}`)).status).toBe(204)
    const a = await ab<{ id: string }>('POST', '/api/alerts', {
      title: 'Bão',
      mediaSha256s: [sha],
      targets: { units: ['xa-an-binh'] },
    })
    expect(a.status).toBe(201)
    expect(
      (await ab<{ alerts: { id: string }[] }>('GET', '/api/alerts')).body.alerts.map((x) => x.id),
    ).toEqual([a.body.id])
    expect((await ab('POST', `/api/alerts/${a.body.id}/cancel`)).status).toBe(200)
    expect((await ab('POST', '/api/clusters/c-ab1/commands', { kind: 'ping' })).status).toBe(202)
  })
})
