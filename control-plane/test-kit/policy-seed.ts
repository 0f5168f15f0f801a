import fs from 'node:fs'
import { encodeMessage, serializeMessage } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { expect } from 'vitest'
import {
  type ApiCall,
  deviceClient,
  makeAudio,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from './test-helpers.js'

/** The role and scope tests' plane: two communes (xa-an-binh with a village, xa-hoa-phu) and callers in roles. */
export interface PolicyPlane {
  t: TestPlane
  /** A commune operator of xa-an-binh. */
  ab: ApiCall
  /** A viewer of xa-an-binh. */
  viewer: ApiCall
  /** A province operator. */
  provOp: ApiCall
  /** No credentials. */
  anon: ApiCall
  /** The uploaded media everything plays. */
  sha: string
  /** xa-hoa-phu's alert, live and command. */
  ids: Record<string, string>
}

/** A reported play of `scheduleId` from cluster `clusterId`. */
async function play(t: TestPlane, sha: string, clusterId: string, scheduleId: string) {
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

/**
 * A control plane holding, in each commune, clusters, schedules, bulletins, and in xa-hoa-phu a station, an alert,
 * a live, a relay, a command and a fallback, with a play reported on each side (every step checked).
 */
export async function startPolicyPlane(): Promise<PolicyPlane> {
  const t = await startTestPlane()
  // A failed step fails the file's beforeAll: the plane is closed here, as the file never gets it.
  return seed(t).catch(async (err: unknown) => {
    await t.close()
    throw err
  })
}

async function seed(t: TestPlane): Promise<PolicyPlane> {
  const ids: Record<string, string> = {}
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
  const sha = up.body.sha256 as string
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
  await play(t, sha, 'c-ab', 's-ab')
  await play(t, sha, 'c-hp', 's-hp')
  await waitFor(
    async () => (await t.api<{ plays: unknown[] }>('GET', '/api/plays')).body.plays.length === 2,
    10_000,
    'plays',
  )

  const ab = t.apiAs({ role: 'commune-operator', scopeUnitId: 'xa-an-binh' })
  const viewer = t.apiAs({ role: 'viewer', scopeUnitId: 'xa-an-binh' })
  const provOp = t.apiAs({ role: 'province-operator', scopeUnitId: 'prov' })
  const anon = t.apiWith({})
  return { t, ab, viewer, provOp, anon, sha, ids }
}
