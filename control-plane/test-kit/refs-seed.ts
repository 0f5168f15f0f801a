import fs from 'node:fs'
import { encodeMessage, serializeMessage } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { type ApiCall, deviceClient, makeAudio, multipartBody, type TestPlane } from './test-helpers.js'

/**
 * Test fixture of access-refs.test.ts: a province with two communes, xa-ab and xa-hoaphu, each with its own
 * people and content made by them (media, bulletins, playlists, schedules, an alert, a live relay, a recurring
 * relay, a fallback, users, tokens, a programme, plays). Everything of xa-hoaphu carries "hoaphu" in its id or
 * title, so a leak of it shows in any answer's text.
 */

export interface Communes {
  t: TestPlane
  admin: ApiCall
  /** xa-ab's commune operator, viewer and (scoped) administrator; xa-hoaphu's operator and administrator. */
  ab: ApiCall
  abViewer: ApiCall
  abAdmin: ApiCall
  hp: ApiCall
  hpAdmin: ApiCall
  abToken: string
  /** Generated ids and hashes by name: shaAb, shaHp, alertAb, userAb, hpActor, programme-xa-ab, … */
  ids: Record<string, string>
}

export const MARK = 'hoaphu'
export const weekly = { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-01-01' }
export const today = (): string => new Date().toISOString().slice(0, 10)
const inHours = (h: number) => new Date(Math.ceil(Date.now() / 60_000) * 60_000 + h * 3_600_000).toISOString()

export async function upload(t: TestPlane, token: string, name: string, freq: number): Promise<string> {
  const { payload, headers } = multipartBody(
    'file',
    name,
    fs.readFileSync(makeAudio(t.dir, name, { seconds: 1, freq })),
    'audio/wav',
  )
  const res = await t.cp.app.inject({
    method: 'POST',
    url: '/api/media',
    payload,
    headers: { ...headers, authorization: `Bearer ${token}` },
  })
  if (res.statusCode !== 201) throw new Error(`upload ${name} → ${res.statusCode} ${res.body}`)
  return JSON.parse(res.body).sha256 as string
}

export async function ok<T = Record<string, unknown>>(
  call: ApiCall,
  method: string,
  url: string,
  body?: unknown,
) {
  const r = await call<T>(method, url, body)
  if (r.status >= 300) throw new Error(`${method} ${url} → ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

async function play(t: TestPlane, sha: string, clusterId: string, scheduleId: string, title: string) {
  const client = await deviceClient(t, clusterId)
  const at = new Date(Date.now() - 120_000).toISOString()
  const body = {
    scheduleId,
    title,
    sha256: sha,
    level: 'normal' as const,
    priority: 50,
    fallback: false,
    occurrence: at,
    status: 'played' as const,
    relayOnAt: at,
    startedAt: at,
    endedAt: at,
    relayOffAt: at,
    durationMs: 60_000,
  }
  const msg = encodeMessage('play', clusterId, body)
  await client.publishAsync(`loa/v1/device/${clusterId}/play`, serializeMessage('play', msg), { qos: 1 })
  await client.endAsync()
}

export async function seedCommunes(t: TestPlane): Promise<Communes> {
  const ids: Record<string, string> = {}
  const admin = t.api
  for (const u of [
    { id: 'prov', name: 'Tỉnh', kind: 'province', parentId: null },
    { id: 'xa-ab', name: 'Xã An Bình', kind: 'commune', parentId: 'prov' },
    { id: 'thon-ab', name: 'Thôn 1', kind: 'village', parentId: 'xa-ab' },
    { id: 'xa-hoaphu', name: 'Xã hoaphu', kind: 'commune', parentId: 'prov' },
  ]) {
    await ok(admin, 'POST', '/api/units', u)
  }
  await ok(admin, 'POST', '/api/stations', { id: 'st-ab', name: 'Đài An Bình', unitId: 'xa-ab' })
  await ok(admin, 'POST', '/api/stations', { id: 'st-hoaphu', name: 'Đài hoaphu', unitId: 'xa-hoaphu' })
  await ok(admin, 'POST', '/api/clusters', { id: 'c-ab', name: 'Cụm An Bình', unitId: 'xa-ab' })
  await ok(admin, 'POST', '/api/clusters', { id: 'c-hoaphu', name: 'Cụm hoaphu', unitId: 'xa-hoaphu' })

  const abToken = await t.tokenFor('commune-operator', 'xa-ab')
  const hpToken = await t.tokenFor('commune-operator', 'xa-hoaphu')
  const ab = t.apiWith({ authorization: `Bearer ${abToken}` })
  const hp = t.apiWith({ authorization: `Bearer ${hpToken}` })
  const abViewer = t.apiAs({ role: 'viewer', scopeUnitId: 'xa-ab' })
  const abAdmin = t.apiAs({ role: 'province-admin', scopeUnitId: 'xa-ab' })
  const hpAdmin = t.apiAs({ role: 'province-admin', scopeUnitId: 'xa-hoaphu' })

  // Each commune's own content, made by its own people.
  ids.shaAb = await upload(t, abToken, 'an-binh.wav', 440)
  ids.shaHp = await upload(t, hpToken, 'hoaphu.wav', 660)
  await ok(ab, 'POST', '/api/bulletins', {
    id: 'b-ab',
    title: 'Tin An Bình',
    level: 'normal',
    mediaSha256: ids.shaAb,
  })
  await ok(ab, 'POST', '/api/bulletins', {
    id: 'b-ab-send',
    title: 'Gửi thôn',
    level: 'normal',
    mediaSha256: ids.shaAb,
  })
  await ok(hp, 'POST', '/api/bulletins', {
    id: 'b-hoaphu',
    title: 'Tin hoaphu',
    level: 'normal',
    mediaSha256: ids.shaHp,
  })
  await ok(ab, 'POST', '/api/playlists', { id: 'p-ab', title: 'Chương trình An Bình', bulletinIds: ['b-ab'] })
  await ok(hp, 'POST', '/api/playlists', {
    id: 'p-hoaphu',
    title: 'Chương trình hoaphu',
    bulletinIds: ['b-hoaphu'],
  })
  for (const [call, id, unit, b] of [
    [ab, 's-ab', 'xa-ab', 'b-ab'],
    [hp, 's-hoaphu', 'xa-hoaphu', 'b-hoaphu'],
  ] as const) {
    await ok(call, 'POST', '/api/schedules', {
      id,
      bulletinId: b,
      recurrence: weekly,
      targets: { units: [unit] },
    })
  }
  ids.alertAb = (
    await ok<{ id: string }>(ab, 'POST', '/api/alerts', {
      title: 'Bão An Bình',
      bulletinId: 'b-ab',
      targets: { units: ['xa-ab'] },
    })
  ).id
  await ok(hp, 'POST', '/api/alerts', {
    title: 'Lũ hoaphu',
    bulletinId: 'b-hoaphu',
    targets: { units: ['xa-hoaphu'] },
  })
  await ok(hp, 'POST', '/api/lives', {
    title: 'Tiếp sóng hoaphu',
    sourceUrl: 'http://radio.example.vn/hoaphu.mp3',
    targets: { units: ['xa-hoaphu'] },
    durationS: 600,
  })
  await ok(hp, 'POST', '/api/relays', {
    id: 'r-hoaphu',
    title: 'Thời sự hoaphu',
    sourceUrl: 'http://radio.example.vn/hoaphu.mp3',
    recurrence: weekly,
    durationS: 600,
    targets: { units: ['xa-hoaphu'] },
  })
  await ok(hp, 'PUT', '/api/units/xa-hoaphu/fallback', { bulletinIds: ['b-hoaphu'], windows: [] })
  ids.userAb = (
    await ok<{ id: string }>(abAdmin, 'POST', '/api/users', {
      username: 'can-bo-ab',
      displayName: 'Cán bộ An Bình',
      role: 'viewer',
      scopeUnitId: 'xa-ab',
      password: 'mật-khẩu-dài-12',
    })
  ).id
  await ok(hpAdmin, 'POST', '/api/users', {
    username: 'can-bo-hoaphu',
    displayName: 'Cán bộ hoaphu',
    role: 'viewer',
    scopeUnitId: 'xa-hoaphu',
    password: 'mật-khẩu-dài-12',
  })
  await ok(hpAdmin, 'POST', '/api/tokens', { name: 'Mã hoaphu', role: 'viewer', scopeUnitId: 'xa-hoaphu' })
  // The province sends one bulletin to each commune; each accepts its own into a programme.
  for (const [unit, call, title] of [
    ['xa-ab', ab, 'Tỉnh gửi An Bình'],
    ['xa-hoaphu', hp, 'Tỉnh gửi hoaphu'],
  ] as const) {
    const b = await ok<{ id: string }>(admin, 'POST', '/api/bulletins', {
      id: `b-prov-${unit}`,
      title,
      level: 'normal',
      mediaSha256: unit === 'xa-ab' ? ids.shaAb : ids.shaHp,
      unitId: 'prov',
    })
    const sent = await ok<{ deliveries: { id: string }[] }>(admin, 'POST', `/api/bulletins/${b.id}/send`, {
      toUnitIds: [unit],
      note: `cho ${title}`,
    })
    const d = await ok<{ programmeId: string }>(call, 'POST', `/api/inbox/${sent.deliveries[0]?.id}/accept`, {
      at: inHours(5),
    })
    ids[`programme-${unit}`] = d.programmeId
  }
  await ok(admin, 'POST', '/api/clusters/c-hoaphu/commands', { kind: 'ping' })
  ids.hpActor = (await ok<{ token: { id: string } }>(hp, 'GET', '/api/auth/me')).token.id
  await play(t, ids.shaAb as string, 'c-ab', 's-ab', 'Tin An Bình')
  await play(t, ids.shaAb as string, 'c-hoaphu', 's-hoaphu', 'Tin hoaphu')
  await waitFor(
    async () => (await admin<{ plays: unknown[] }>('GET', '/api/plays')).body.plays.length === 2,
    10_000,
    'plays',
  )
  return { t, admin, ab, abViewer, abAdmin, hp, hpAdmin, abToken, ids }
}
