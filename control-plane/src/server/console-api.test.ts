import fs from 'node:fs'
import { type BodyFor, type DeviceUpChannel, encodeMessage, serializeMessage } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { DateTime } from 'luxon'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  deviceClient,
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'
import type { ReportFigures } from '../reports/reports.js'

const TZ = 'Asia/Ho_Chi_Minh'
let t: TestPlane
const devices: MqttClient[] = []
const sha = (c: string) => c.repeat(64)

async function send<C extends DeviceUpChannel>(client: MqttClient, id: string, channel: C, body: BodyFor<C>) {
  const msg = encodeMessage(channel, id, body)
  await client.publishAsync(`loa/v1/device/${id}/${channel}`, serializeMessage(channel, msg), { qos: 1 })
}

function play(o: {
  sha256: string
  level?: 'normal' | 'emergency'
  status?: string
  durationMs: number
}): BodyFor<'play'> {
  const started = new Date(Date.now() - 120_000).toISOString()
  return {
    scheduleId: null,
    title: 'Tin',
    sha256: o.sha256,
    level: o.level ?? 'normal',
    priority: o.level === 'emergency' ? 200 : 50,
    fallback: false,
    occurrence: null,
    status: (o.status ?? 'played') as BodyFor<'play'>['status'],
    relayOnAt: started,
    startedAt: started,
    endedAt: started,
    relayOffAt: started,
    durationMs: o.durationMs,
  }
}

const telemetry = (playing: boolean): BodyFor<'telemetry'> => {
  const at = new Date().toISOString()
  return {
    at,
    uptimeS: 100,
    agentVersion: '0.1.0',
    cpuLoad1: 0.5,
    cpuCount: 4,
    memTotalBytes: 4e9,
    memFreeBytes: 2e9,
    diskTotalBytes: 32e9,
    diskFreeBytes: 20e9,
    relayOn: playing,
    nowPlaying: playing
      ? { scheduleId: null, title: 'Tin', sha256: sha('a'), startedAt: at, fallback: false }
      : null,
    outboxPending: 0,
  }
}

const today = () => DateTime.now().setZone(TZ).toISODate() as string
const yesterday = () => DateTime.now().setZone(TZ).minus({ days: 1 }).toISODate() as string

beforeAll(async () => {
  t = await startTestPlane()
  await seedTree(t)
  // A bulletin scheduled a few minutes ago on commune A's two clusters: 6 s requested on each.
  const m = await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'six.wav', { seconds: 6 })))
  const b = await t.api<{ id: string }>('POST', '/api/bulletins', {
    title: 'Tin xã',
    level: 'normal',
    mediaSha256: m.body.sha256,
  })
  const sc = await t.api('POST', '/api/schedules', {
    bulletinId: b.body.id,
    recurrence: { kind: 'once', at: new Date(Date.now() - 5 * 60_000).toISOString() },
    targets: { units: ['xa-a'] },
  })
  expect(sc.status).toBe(201)
  const a = await deviceClient(t, 'c-a')
  const a1 = await deviceClient(t, 'c-a1')
  const cb = await deviceClient(t, 'c-b')
  devices.push(a, a1, cb)
  await send(a, 'c-a', 'telemetry', telemetry(true))
  await send(a, 'c-a', 'play', play({ sha256: sha('a'), durationMs: 60_000 }))
  await send(a, 'c-a', 'play', play({ sha256: sha('a'), durationMs: 30_000 }))
  await send(a, 'c-a', 'play', play({ sha256: sha('b'), status: 'failed', durationMs: 0 }))
  await send(a1, 'c-a1', 'play', play({ sha256: sha('c'), level: 'emergency', durationMs: 120_000 }))
  await send(cb, 'c-b', 'play', play({ sha256: sha('b'), status: 'interrupted', durationMs: 45_000 }))
  await send(cb, 'c-b', 'play', play({ sha256: sha('b'), durationMs: 15_000 }))
  await send(cb, 'c-b', 'event', {
    at: new Date().toISOString(),
    kind: 'amplifier-fault',
    severity: 'error',
    message: 'relay feedback missing',
  })
  await waitFor(
    async () => {
      const r = await t.api<{ plays: unknown[] }>('GET', '/api/plays')
      return r.body.plays.length === 6
    },
    10_000,
    'six plays stored',
  )
  // c-a1 goes offline again: a presence message says so.
  await send(a1, 'c-a1', 'presence', { online: false })
  await waitFor(
    async () => {
      const r = await t.api<{ online: boolean }>('GET', '/api/clusters/c-a1')
      return r.body.online === false
    },
    10_000,
    'c-a1 offline',
  )
})
afterAll(async () => {
  for (const d of devices) await d.endAsync()
  await t?.close()
})

type Figures = ReportFigures
interface Report {
  totals: Figures
  rows: Figures[]
  series: { date: string; plays: number; successfulPlays: number; minutesRequested: number }[]
}

describe('reports', () => {
  it('counts plays, bulletins, minutes and availability per commune and in total', async () => {
    const r = await t.api<Report>('GET', `/api/reports?unitId=prov&from=${yesterday()}&to=${today()}`)
    expect(r.status).toBe(200)
    expect(r.body.totals).toMatchObject({
      unitId: 'prov',
      clusters: 3,
      bulletins: 3,
      plays: 6,
      successfulPlays: 4,
      failedPlays: 1,
      emergencyBulletins: 1,
      minutesPlayed: 4.5,
      minutesRequested: 0.2,
    })
    expect(r.body.totals.playedRatio).toBeCloseTo(4.5 / 0.2, 0)
    const a = r.body.rows.find((x) => x.unitId === 'xa-a') as Figures
    const b = r.body.rows.find((x) => x.unitId === 'xa-b') as Figures
    expect(a).toMatchObject({
      name: 'Xã A',
      clusters: 2,
      bulletins: 2,
      successfulPlays: 3,
      emergencyBulletins: 1,
    })
    expect(a.minutesPlayed).toBe(3.5)
    expect(a.minutesRequested).toBe(0.2)
    expect(b).toMatchObject({ clusters: 1, bulletins: 1, plays: 2, successfulPlays: 1, minutesPlayed: 1 })
    expect(b.minutesRequested).toBe(0)
    expect(b.playedRatio).toBeNull()
    // c-a has been online since its first message; c-a1 went offline again; so commune A is under 100 %.
    expect(a.availabilityPct).toBeGreaterThan(0)
    expect(a.availabilityPct).toBeLessThan(100)
    expect(r.body.series.map((d) => d.date)).toEqual([yesterday(), today()])
    expect(r.body.series.reduce((n, d) => n + d.successfulPlays, 0)).toBe(4)
    const commune = await t.api<Report>('GET', `/api/reports?unitId=xa-a&from=${today()}&to=${today()}`)
    expect(commune.body.rows.map((x) => x.unitId)).toEqual(['xa-a'])
    expect(commune.body.totals.successfulPlays).toBe(3)
  })

  it('exports CSV with a BOM and Vietnamese headers, and the yearly report in one call', async () => {
    const res = await t.cp.app.inject({
      headers: t.adminHeaders,
      method: 'GET',
      url: `/api/reports.csv?unitId=prov&from=${yesterday()}&to=${today()}`,
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    expect(res.headers['content-disposition']).toMatch(/attachment; filename=".+\.csv"/)
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]))
    const lines = res.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n')
    const header = (lines[0] as string).split(',')
    const col = header.indexOf('Số lượt phát thành công')
    expect(col).toBeGreaterThan(0)
    const total = (lines.at(-1) as string).split(',')
    expect(total[0]).toBe('Tổng cộng')
    expect(Number(total[col])).toBe(4)
    expect(lines.find((l) => l.startsWith('Xã A,'))?.split(',')[col]).toBe('3')
    const year = DateTime.now().setZone(TZ).year
    const yearly = await t.api<Report & { from: string }>(
      'GET',
      `/api/reports/yearly?unitId=prov&year=${year}`,
    )
    expect(yearly.status).toBe(200)
    expect(yearly.body.totals.successfulPlays).toBe(4)
    expect(yearly.body.from).toBe(
      DateTime.fromObject({ year, month: 1, day: 1 }, { zone: TZ }).toUTC().toISO(),
    )
    const ycsv = await t.cp.app.inject({
      headers: t.adminHeaders,
      method: 'GET',
      url: `/api/reports/yearly.csv?unitId=prov&year=${year}`,
    })
    expect(ycsv.statusCode).toBe(200)
    expect(ycsv.body).toContain('Tổng cộng')
  })

  it('refuses bad periods', async () => {
    for (const q of [
      `unitId=prov&from=2026-13-01&to=${today()}`,
      `unitId=prov&from=${today()}&to=${yesterday()}`,
      'unitId=prov&from=2024-01-01&to=2026-01-01',
      'unitId=prov&year=2100',
    ]) {
      const path = q.includes('year') ? '/api/reports/yearly' : '/api/reports'
      const r = await t.api<{ code: string }>('GET', `${path}?${q}`)
      expect(r.status, q).toBe(400)
    }
    expect((await t.api('GET', `/api/reports?unitId=nope&from=${today()}&to=${today()}`)).status).toBe(404)
  })
})

describe('dashboard and cluster page', () => {
  it('counts clusters by state, rolls up per commune and lists what needs attention', async () => {
    const r = await t.api<{
      counts: Record<string, number>
      communes: { unitId: string; total: number; offline: number; playing: number; fault: number }[]
      alerts: { kind: string; clusterId: string }[]
      clusters: { id: string; state: string; communeId: string }[]
    }>('GET', '/api/dashboard?unitId=prov&offlineAfterMin=1')
    expect(r.status).toBe(200)
    expect(r.body.counts).toEqual({ total: 3, online: 2, offline: 1, playing: 1, fault: 1 })
    expect(r.body.communes).toEqual([
      { unitId: 'xa-a', name: 'Xã A', total: 2, online: 1, offline: 1, playing: 1, fault: 0 },
      { unitId: 'xa-b', name: 'Xã B', total: 1, online: 1, offline: 0, playing: 0, fault: 1 },
    ])
    expect(Object.fromEntries(r.body.clusters.map((c) => [c.id, [c.state, c.communeId]]))).toEqual({
      'c-a': ['playing', 'xa-a'],
      'c-a1': ['offline', 'xa-a'],
      'c-b': ['fault', 'xa-b'],
    })
    // c-a1 was seen seconds ago: not yet "offline too long" at the default 30 minutes.
    expect(r.body.alerts.map((a) => [a.kind, a.clusterId])).toEqual([['fault', 'c-b']])
    const commune = await t.api<{ counts: { total: number } }>('GET', '/api/dashboard?unitId=xa-b')
    expect(commune.body.counts.total).toBe(1)
    expect((await t.api('GET', '/api/dashboard?unitId=nope')).status).toBe(404)
    expect((await t.api('GET', '/api/dashboard?offlineAfterMin=0')).status).toBe(400)
  })

  it('serves telemetry as a time series for a period', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString()
    const r = await t.api<{ series: { playing: boolean; cpuLoad1: number }[]; latest: { relayOn: boolean } }>(
      'GET',
      `/api/clusters/c-a/telemetry?from=${from}`,
    )
    expect(r.status).toBe(200)
    expect(r.body.series).toEqual([expect.objectContaining({ playing: true, cpuLoad1: 0.5 })])
    expect(r.body.latest.relayOn).toBe(true)
    const empty = await t.api<{ series: unknown[] }>(
      'GET',
      `/api/clusters/c-a/telemetry?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`,
    )
    expect(empty.body.series).toEqual([])
    expect((await t.api('GET', '/api/clusters/c-a/telemetry?from=yesterday')).status).toBe(400)
  })

  it('sends a test tone command', async () => {
    const r = await t.api<{ commandId: string }>('POST', '/api/clusters/c-a/commands', {
      kind: 'test',
      test: { seconds: 3, frequencyHz: 1000 },
    })
    expect(r.status).toBe(202)
    const cmd = await t.api<{ kind: string }>('GET', `/api/commands/${r.body.commandId}`)
    expect(cmd.body.kind).toBe('test')
    expect(
      (await t.api('POST', '/api/clusters/c-a/commands', { kind: 'test', test: { seconds: 99 } })).status,
    ).toBe(400)
  })
})
