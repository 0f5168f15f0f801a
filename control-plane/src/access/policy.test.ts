import fs from 'node:fs'
import { encodeMessage, serializeMessage } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ApiCall,
  deviceClient,
  makeAudio,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'
import type { App, Services } from '../context.js'
import { registerAuth } from './auth-plugin.js'

/**
 * Role and scope boundaries, enforced by the API: a commune operator of xa-an-binh can neither see nor act on
 * xa-hoa-phu, by id or in lists; each role gets exactly its permissions (docs/users-and-roles.md).
 */

let t: TestPlane
let ab: ApiCall
let viewer: ApiCall
let provOp: ApiCall
let anon: ApiCall
let sha: string
const ids: Record<string, string> = {}

const idsOf = (list: { id: string }[]) => list.map((x) => x.id).sort()

async function play(clusterId: string, scheduleId: string) {
  const client = await deviceClient(t, clusterId)
  const body = {
    scheduleId,
    title: 'Tin sáng',
    sha256: sha,
    level: 'normal' as const,
    priority: 50,
    fallback: false,
    occurrence: '2026-11-27T23:00:00.000Z',
    status: 'played' as const,
    relayOnAt: '2026-11-27T23:00:00.000Z',
    startedAt: '2026-11-27T23:00:01.000Z',
    endedAt: '2026-11-27T23:01:01.000Z',
    relayOffAt: '2026-11-27T23:01:02.000Z',
    durationMs: 60_000,
  }
  const msg = encodeMessage('play', clusterId, body)
  await client.publishAsync(`loa/v1/device/${clusterId}/play`, serializeMessage('play', msg), { qos: 1 })
  await client.endAsync()
}

beforeAll(async () => {
  t = await startTestPlane()
  const units = [
    { id: 'prov', name: 'Tỉnh Đồng Tháp', kind: 'province', parentId: null },
    { id: 'xa-an-binh', name: 'Xã An Bình', kind: 'commune', parentId: 'prov' },
    { id: 'thon-ab1', name: 'Ấp 1', kind: 'village', parentId: 'xa-an-binh' },
    { id: 'xa-hoa-phu', name: 'Xã Hòa Phú', kind: 'commune', parentId: 'prov' },
  ]
  for (const u of units) expect((await t.api('POST', '/api/units', u)).status).toBe(201)
  for (const [id, unitId] of [
    ['c-ab', 'xa-an-binh'],
    ['c-ab1', 'thon-ab1'],
    ['c-hp', 'xa-hoa-phu'],
  ]) {
    expect((await t.api('POST', '/api/clusters', { id, name: id, unitId, tags: ['market'] })).status).toBe(
      201,
    )
  }
  expect(
    (await t.api('POST', '/api/stations', { id: 'st-hp', name: 'Đài Hòa Phú', unitId: 'xa-hoa-phu' })).status,
  ).toBe(201)
  const up = await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'a.wav', { seconds: 1 })))
  sha = up.body.sha256 as string
  expect(
    (await t.api('POST', '/api/bulletins', { id: 'b1', title: 'Tin', level: 'normal', mediaSha256: sha }))
      .status,
  ).toBe(201)
  const hp = { id: 'b-hp', title: 'Tin Hòa Phú', level: 'normal', mediaSha256: sha, unitId: 'xa-hoa-phu' }
  expect((await t.api('POST', '/api/bulletins', hp)).status).toBe(201)
  const schedule = (id: string, units: string[]) =>
    t.api('POST', '/api/schedules', {
      id,
      bulletinId: 'b1',
      recurrence: { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-01-01' },
      targets: { units },
    })
  expect((await schedule('s-ab', ['xa-an-binh'])).status).toBe(201)
  expect((await schedule('s-hp', ['xa-hoa-phu'])).status).toBe(201)
  expect((await schedule('s-prov', ['prov'])).status).toBe(201)
  const alert = await t.api<{ id: string }>('POST', '/api/alerts', {
    title: 'Lũ',
    mediaSha256s: [sha],
    targets: { units: ['xa-hoa-phu'] },
    expiresInS: 600,
  })
  expect(alert.status).toBe(201)
  ids.alert = alert.body.id
  const live = await t.api<{ id: string }>('POST', '/api/lives', {
    title: 'VOV1',
    sourceUrl: 'http://radio.example.vn/vov1.mp3',
    targets: { units: ['xa-hoa-phu'] },
    durationS: 600,
  })
  expect(live.status).toBe(201)
  ids.live = live.body.id
  expect(
    (
      await t.api('POST', '/api/relays', {
        id: 'r-hp',
        title: 'Thời sự',
        sourceUrl: 'http://radio.example.vn/vov1.mp3',
        recurrence: { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-01-01' },
        durationS: 600,
        targets: { units: ['xa-hoa-phu'] },
      })
    ).status,
  ).toBe(201)
  const cmd = await t.api<{ commandId: string }>('POST', '/api/clusters/c-hp/commands', { kind: 'ping' })
  expect(cmd.status).toBe(202)
  ids.command = cmd.body.commandId
  expect(
    (await t.api('PUT', '/api/units/xa-hoa-phu/fallback', { bulletinIds: ['b1'], windows: [] })).status,
  ).toBe(200)
  await play('c-ab', 's-ab')
  await play('c-hp', 's-hp')
  await waitFor(
    async () => (await t.api<{ plays: unknown[] }>('GET', '/api/plays')).body.plays.length === 2,
    10_000,
    'plays',
  )

  ab = t.apiAs({ role: 'commune-operator', scopeUnitId: 'xa-an-binh' })
  viewer = t.apiAs({ role: 'viewer', scopeUnitId: 'xa-an-binh' })
  provOp = t.apiAs({ role: 'province-operator', scopeUnitId: 'prov' })
  anon = t.apiWith({})
}, 60_000)
afterAll(async () => {
  await t?.close()
})

describe('unauthenticated', () => {
  it('refuses every API route listed in the OpenAPI document, except health and login', async () => {
    const doc = await t.api<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json')
    expect(doc.status).toBe(200)
    const paths = Object.entries(doc.body.paths)
    expect(paths.length).toBeGreaterThan(30)
    let checked = 0
    for (const [p, methods] of paths) {
      for (const method of Object.keys(methods)) {
        if (method === 'head') continue
        const url = p.replace(/\{[^}]+\}/g, 'x')
        const r = await anon(
          method.toUpperCase(),
          url,
          method === 'get' || method === 'delete' ? undefined : {},
        )
        if (url === '/healthz' || url === '/api/auth/login') {
          expect(r.status, `${method} ${url}`).not.toBe(401)
          continue
        }
        expect(r.status, `${method} ${url}`).toBe(401)
        expect((r.body as { code: string }).code).toBe('LOA_UNAUTHENTICATED')
        checked++
      }
    }
    expect(checked).toBeGreaterThan(40)
    for (const url of ['/openapi.json', '/metrics', `/media/${sha}`, '/api/no-such-route']) {
      expect((await anon('GET', url)).status, url).toBe(401)
    }
  })

  it('refuses a bad bearer token, a revoked one, and unknown schemes', async () => {
    const bad = await t.apiWith({
      authorization: 'Bearer loa_testadmin_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    })('GET', '/api/units')
    expect(bad.status).toBe(401)
    expect((await t.apiWith({ authorization: 'Digest x' })('GET', '/api/units')).status).toBe(401)
    expect((await t.apiWith({ authorization: 'Basic Yzp4' })('GET', `/media/${sha}`)).status).toBe(401)
  })
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

describe('role permissions', () => {
  it('viewer reads but changes nothing', async () => {
    expect((await viewer('GET', '/api/schedules')).status).toBe(200)
    expect((await viewer('GET', '/api/media')).status).toBe(200)
    expect((await viewer('GET', '/metrics')).status).toBe(200)
    const weekly = { kind: 'weekly', daysOfWeek: [2], times: ['07:00'], startDate: '2026-01-01' }
    for (const [method, url, body] of [
      [
        'POST',
        '/api/schedules',
        { bulletinId: 'b1', recurrence: weekly, targets: { units: ['xa-an-binh'] } },
      ],
      ['POST', '/api/bulletins', { title: 'x', level: 'normal', mediaSha256: sha }],
      ['POST', '/api/alerts', { title: 'x', mediaSha256s: [sha], targets: { units: ['xa-an-binh'] } }],
      ['POST', '/api/clusters/c-ab/commands', { kind: 'ping' }],
      ['GET', '/api/audit', undefined],
      ['GET', '/api/users', undefined],
    ] as const) {
      const r = await viewer(method, url, body)
      expect(r.status, `${method} ${url}`).toBe(403)
      expect((r.body as { code: string }).code).toBe('LOA_FORBIDDEN')
    }
  })

  it('operators run broadcasts but administer neither devices nor users', async () => {
    for (const op of [ab, provOp]) {
      expect(
        (await op('POST', '/api/units', { id: 'x1', name: 'x', kind: 'village', parentId: 'xa-an-binh' }))
          .status,
      ).toBe(403)
      expect((await op('PATCH', '/api/clusters/c-ab', { name: 'renamed' })).status).toBe(403)
      expect((await op('GET', '/api/users')).status).toBe(403)
      expect((await op('POST', '/api/tokens', { name: 'x', role: 'viewer' })).status).toBe(403)
      expect((await op('GET', '/api/audit')).status).toBe(200)
    }
    const a = await provOp<{ id: string }>('POST', '/api/alerts', {
      title: 'Bão',
      mediaSha256s: [sha],
      targets: { units: ['xa-hoa-phu'], tags: ['market'] },
    })
    expect(a.status).toBe(201)
    expect((await provOp('POST', `/api/alerts/${a.body.id}/cancel`)).status).toBe(200)
  })

  it('a device credential only downloads media', async () => {
    expect((await t.apiWith({ authorization: 'Basic Yy1hYjpzZWNyZXQ=' })('GET', '/api/units')).status).toBe(
      401,
    )
  })
})

describe('route declarations', () => {
  it('refuses a protected route that declares no permission, so none can be left open by mistake', async () => {
    const app = Fastify()
    // The hooks only read services when a request arrives.
    await registerAuth(app as unknown as App, {} as Services)
    app.get('/console/page', async () => 'a public page')
    app.get('/api/declared', { config: { permission: 'read' } }, async () => 'ok')
    expect(() => app.get('/api/forgotten', async () => 'open?')).toThrow(
      /GET \/api\/forgotten: config.permission missing/,
    )
    expect(() => app.post('/media/upload', async () => 'open?')).toThrow(/config.permission missing/)
    await app.ready()
    expect((await app.inject({ url: '/console/page' })).statusCode).toBe(200)
    await app.close()
  })
})
