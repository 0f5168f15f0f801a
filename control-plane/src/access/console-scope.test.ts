import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ApiCall,
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'

/** Role and scope boundaries of the console routes (the general matrix is in access.test.ts). */
let t: TestPlane
let communeA: ApiCall
let viewerB: ApiCall
let media: string
const today = new Date().toISOString().slice(0, 10)
const inHours = (h: number) => new Date(Math.ceil(Date.now() / 60_000) * 60_000 + h * 3_600_000).toISOString()

beforeAll(async () => {
  t = await startTestPlane()
  await seedTree(t)
  media = (await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'a.wav', { seconds: 1 })))).body
    .sha256 as string
  communeA = t.apiAs({ role: 'commune-operator', scopeUnitId: 'xa-a' })
  viewerB = t.apiAs({ role: 'viewer', scopeUnitId: 'xa-b' })
})
afterAll(async () => {
  await t?.close()
})

describe('console routes and scopes', () => {
  it('reports, dashboard and calendar show only the caller subtree', async () => {
    expect((await communeA('GET', `/api/reports?unitId=xa-b&from=${today}&to=${today}`)).status).toBe(404)
    expect((await communeA('GET', `/api/reports.csv?unitId=xa-b&from=${today}&to=${today}`)).status).toBe(404)
    expect((await communeA('GET', `/api/reports/yearly?unitId=prov&year=2026`)).status).toBe(404)
    const own = await communeA<{ totals: { clusters: number } }>(
      'GET',
      `/api/reports?unitId=xa-a&from=${today}&to=${today}`,
    )
    expect(own.status).toBe(200)
    expect(own.body.totals.clusters).toBe(2)
    const dash = await communeA<{ counts: { total: number }; clusters: { id: string }[] }>(
      'GET',
      '/api/dashboard',
    )
    expect(dash.body.clusters.map((c) => c.id).sort()).toEqual(['c-a', 'c-a1'])
    expect((await communeA('GET', '/api/dashboard?unitId=prov')).status).toBe(404)
    expect((await communeA('GET', '/api/calendar?clusterId=c-b')).status).toBe(404)
    expect((await communeA('GET', '/api/calendar?unitId=xa-a')).status).toBe(200)
    expect((await viewerB('GET', '/api/calendar?unitId=xa-b')).status).toBe(200)
  })

  it('keeps inboxes apart and lets a commune decide only for itself', async () => {
    const b = await t.api<{ id: string }>('POST', '/api/bulletins', {
      title: 'Tỉnh gửi',
      level: 'normal',
      mediaSha256: media,
      unitId: 'prov',
    })
    const sent = await t.api<{ deliveries: { id: string; toUnitId: string }[] }>(
      'POST',
      `/api/bulletins/${b.body.id}/send`,
      { toUnitIds: ['xa-a', 'xa-b'] },
    )
    expect(sent.status).toBe(201)
    const toB = sent.body.deliveries.find((d) => d.toUnitId === 'xa-b') as { id: string }
    const toA = sent.body.deliveries.find((d) => d.toUnitId === 'xa-a') as { id: string }
    const inbox = await communeA<{ deliveries: { toUnitId: string }[] }>('GET', '/api/inbox')
    expect(inbox.body.deliveries.map((d) => d.toUnitId)).toEqual(['xa-a'])
    expect((await communeA('GET', '/api/inbox?unitId=xa-b')).status).toBe(404)
    // Another commune's delivery reads as unknown (404), like any resource outside the scope.
    expect((await communeA('POST', `/api/inbox/${toB.id}/accept`, {})).status).toBe(404)
    expect((await viewerB('POST', `/api/inbox/${toB.id}/decline`, { reason: 'x' })).status).toBe(403)
    expect((await communeA('POST', `/api/inbox/${toA.id}/accept`, { at: inHours(4) })).status).toBe(200)
    // The province bulletin is visible to a commune it was sent to, with only that commune's delivery.
    const seen = await communeA('GET', `/api/bulletins/${b.body.id}`)
    expect(seen.status).toBe(200)
    const ds = await communeA<{ deliveries: { toUnitId: string }[] }>(
      'GET',
      `/api/bulletins/${b.body.id}/deliveries`,
    )
    expect(ds.body.deliveries.map((d) => d.toUnitId)).toEqual(['xa-a'])
    const other = await t.api<{ id: string }>('POST', '/api/bulletins', {
      title: 'Không gửi',
      level: 'normal',
      mediaSha256: media,
      unitId: 'xa-b',
    })
    expect((await communeA('GET', `/api/bulletins/${other.body.id}`)).status).toBe(404)
    const progs = await communeA<{ programmes: { id: string }[] }>('GET', '/api/programmes?unitId=xa-a')
    expect(progs.body.programmes).toHaveLength(1)
    expect((await communeA('GET', '/api/programmes?unitId=xa-b')).status).toBe(404)
  })

  it('lets a commune send only its own bulletins, below itself', async () => {
    const mine = await communeA<{ id: string; unitId: string }>('POST', '/api/bulletins', {
      title: 'Của xã',
      level: 'normal',
      mediaSha256: media,
    })
    expect(mine.status).toBe(201)
    expect(mine.body.unitId).toBe('xa-a')
    expect(
      (await communeA('POST', `/api/bulletins/${mine.body.id}/send`, { toUnitIds: ['thon-a1'] })).status,
    ).toBe(201)
    const prov = await t.api<{ id: string }>('POST', '/api/bulletins', {
      title: 'Tỉnh',
      level: 'normal',
      mediaSha256: media,
      unitId: 'prov',
    })
    // A bulletin of the province not sent to the commune is outside its scope: unknown to it.
    expect(
      (await communeA('POST', `/api/bulletins/${prov.body.id}/send`, { toUnitIds: ['xa-a'] })).status,
    ).toBe(404)
    expect(
      (
        await communeA('POST', '/api/bulletins', {
          title: 'x',
          level: 'normal',
          mediaSha256: media,
          unitId: 'xa-b',
        })
      ).status,
    ).toBe(403)
  })

  it('guards approval, settings, schedule edits and text-to-speech by role and scope', async () => {
    await t.api('PUT', '/api/units/xa-b/settings', { requiresApproval: true })
    const draft = await t.api<{ id: string; status: string }>('POST', '/api/bulletins', {
      title: 'Nháp B',
      level: 'normal',
      mediaSha256: media,
      unitId: 'xa-b',
    })
    expect(draft.body.status).toBe('draft')
    expect((await communeA('POST', `/api/bulletins/${draft.body.id}/approve`)).status).toBe(404)
    expect((await viewerB('POST', `/api/bulletins/${draft.body.id}/approve`)).status).toBe(403)
    expect((await communeA('PUT', '/api/units/xa-a/settings', { requiresApproval: false })).status).toBe(403)
    expect((await viewerB('GET', '/api/units/xa-b/settings')).status).toBe(200)
    expect((await viewerB('GET', '/api/units/xa-a/settings')).status).toBe(404)
    const b = await t.api<{ id: string }>('POST', '/api/bulletins', {
      title: 'T',
      level: 'normal',
      mediaSha256: media,
    })
    const sc = await t.api<{ id: string }>('POST', '/api/schedules', {
      bulletinId: b.body.id,
      recurrence: { kind: 'once', at: inHours(6) },
      targets: { units: ['prov'] },
    })
    expect((await communeA('POST', `/api/schedules/${sc.body.id}/cancel`, {})).status).toBe(403)
    expect((await viewerB('GET', '/api/tts/voices')).status).toBe(200)
    expect((await viewerB('POST', '/api/tts/preview', { text: 'a' })).status).toBe(403)
    const elsewhere = await communeA<{ code: string }>('POST', '/api/tts/bulletins', {
      text: 'xin chào',
      title: 'x',
      unitId: 'xa-b',
    })
    expect(elsewhere.status).toBe(403)
    expect((await t.apiWith({})('GET', '/api/dashboard')).status).toBe(401)
  })
})
