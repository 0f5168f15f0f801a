import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  CHANNEL_MESSAGES,
  decodeMessage,
  encodeMessage,
  type PlayReportBody,
  serializeMessage,
  topicTree,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CmdSpy, type SimDevice, settle, simDevice, spyCommands } from '../../test-kit/alerts.js'
import {
  clusterInput,
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'
import { openSqliteRepositories } from '../sqlite.js'
import { addressedPublishes } from './message.js'
import type { AlertCounts, UntargetedReport } from './model.js'

const tree = topicTree('loa')
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString()

interface View {
  counts: AlertCounts
  clusters: { clusterId: string; stage: string | null }[]
  untargeted: UntargetedReport[]
}

describe('the signed recipients of a command', () => {
  it('a command for many devices goes out in messages of at most 100 recipients, each only on its own topics', () => {
    const devices = Array.from({ length: 250 }, (_, i) => `c-${i}`)
    const units = ['xa-a', 'xa-b']
    const publishes = addressedPublishes(
      { commandId: 'cmd-12345678', kind: 'ping', deadline: inMs(60_000) },
      { units, devices },
      { unit: (u) => tree.unitCommands(u), device: (d) => tree.device(d, 'cmd') },
    )
    expect(publishes).toHaveLength(252)
    const payloads = new Set(publishes.map((p) => p.payload))
    expect(payloads.size).toBe(4) // the units, then 100 + 100 + 50 devices
    for (const p of publishes) {
      const body = decodeMessage('cmd', p.payload).body
      const parsed = tree.parse(p.topic)
      const own = parsed?.kind === 'unit' ? body.recipients.units : body.recipients.devices
      expect(own).toContain(parsed?.kind === 'unit' ? parsed.unitId : parsed?.deviceId)
      expect(body.recipients.devices.length + body.recipients.units.length).toBeLessThanOrEqual(100)
      expect(p.payload.length).toBeLessThan(CHANNEL_MESSAGES.cmd.maxBytes / 8)
    }
  })
})

describe('the control plane addresses every command, and sets aside reports from clusters it never targeted', () => {
  let t: TestPlane
  let spy: CmdSpy
  let inside: SimDevice
  let outside: SimDevice
  let bulletinId: string

  const raise = (targets: Record<string, unknown>) =>
    t.api<{ id: string; ackId: string }>('POST', '/api/alerts', { title: 'Lũ', bulletinId, targets })
  const alertView = async (id: string) => (await t.api<View>('GET', `/api/alerts/${id}`)).body
  const publishPlay = async (d: SimDevice, body: PlayReportBody) => {
    const msg = encodeMessage('play', d.id, body)
    await d.client.publishAsync(tree.device(d.id, 'play'), serializeMessage('play', msg), { qos: 1 })
    return msg
  }
  const play = (scheduleId: string): PlayReportBody => ({
    scheduleId,
    title: 'Lũ',
    sha256: 'a'.repeat(64),
    level: 'emergency',
    priority: 200,
    fallback: false,
    occurrence: inMs(-5000),
    status: 'played',
    relayOnAt: inMs(-5000),
    startedAt: inMs(-4800),
    endedAt: inMs(-1000),
    relayOffAt: inMs(-800),
    durationMs: 3800,
  })

  beforeAll(async () => {
    t = await startTestPlane({ alertStreamLingerMs: 300 })
    await seedTree(t)
    const sha = (await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'siren.wav', { seconds: 1 })))).body
      .sha256 as string
    bulletinId = (
      await t.api<{ id: string }>('POST', '/api/bulletins', {
        title: 'Lũ',
        level: 'emergency',
        mediaSha256: sha,
      })
    ).body.id
    spy = await spyCommands(t)
    // c-a1 lives in xa-a (village thon-a1); c-b in xa-b.
    inside = await simDevice(t, 'c-a1')
    outside = await simDevice(t, 'c-b')
  })
  afterAll(async () => {
    await inside?.close()
    await outside?.close()
    await spy?.close()
    await t?.close()
  })

  it('names in the signed body exactly the unit or devices of the topics it is published on', async () => {
    const byUnit = await raise({ units: ['xa-a'] })
    const byCluster = await raise({ clusters: ['c-a1', 'c-b'] })
    await t.api('POST', `/api/alerts/${byUnit.body.id}/cancel`)
    await t.api('POST', `/api/alerts/${byCluster.body.id}/cancel`)
    const live = await t.api<{ id: string }>('POST', '/api/lives', {
      title: 'VOV1',
      sourceUrl: 'http://radio.example.vn/vov1.mp3',
      targets: { units: ['xa-b'] },
    })
    await t.api('POST', `/api/lives/${live.body.id}/stop`)
    const ping = await t.api<{ commandId: string }>('POST', '/api/clusters/c-a/commands', { kind: 'ping' })
    const test = await t.api<{ commandId: string }>('POST', '/api/clusters/c-b/commands', {
      kind: 'test',
      test: { seconds: 2 },
    })
    await waitFor(
      () => spy.seen.some((s) => s.body.commandId === test.body.commandId),
      10_000,
      'the test command',
    )
    await settle()
    const to = (pred: (s: CmdSpy['seen'][number]) => boolean) =>
      spy.seen.filter(pred).map((s) => ({ topic: s.topic, recipients: s.body.recipients }))
    expect(to((s) => s.body.kind === 'alert' && s.body.alert.alertId === byUnit.body.id)).toEqual([
      { topic: tree.unitCommands('xa-a'), recipients: { devices: [], units: ['xa-a'] } },
    ])
    expect(
      to((s) => s.body.kind === 'alert' && s.body.alert.alertId === byCluster.body.id).sort((a, b) =>
        a.topic.localeCompare(b.topic),
      ),
    ).toEqual([
      { topic: tree.device('c-a1', 'cmd'), recipients: { devices: ['c-a1', 'c-b'], units: [] } },
      { topic: tree.device('c-b', 'cmd'), recipients: { devices: ['c-a1', 'c-b'], units: [] } },
    ])
    expect(to((s) => s.body.kind === 'alert-cancel' && s.body.alertId === byUnit.body.id)).toEqual([
      { topic: tree.unitCommands('xa-a'), recipients: { devices: [], units: ['xa-a'] } },
    ])
    expect(to((s) => s.body.kind === 'live-stop')).toEqual([
      { topic: tree.unitCommands('xa-b'), recipients: { devices: [], units: ['xa-b'] } },
    ])
    expect(to((s) => s.body.commandId === ping.body.commandId)).toEqual([
      { topic: tree.device('c-a', 'cmd'), recipients: { devices: ['c-a'], units: [] } },
    ])
    expect(to((s) => s.body.commandId === test.body.commandId)).toEqual([
      { topic: tree.device('c-b', 'cmd'), recipients: { devices: ['c-b'], units: [] } },
    ])
    // Whatever was published: the id of its topic is among its signed recipients.
    for (const s of spy.seen) {
      const p = tree.parse(s.topic)
      if (p?.kind === 'unit') expect(s.body.recipients.units).toContain(p.unitId)
      else expect(s.body.recipients.devices).toContain(p?.deviceId)
    }
  })

  it("an alert's acks and plays from a cluster it never targeted are flagged, not counted", async () => {
    const r = await raise({ units: ['xa-a'] })
    const { id, ackId } = r.body
    await waitFor(() => inside.commands.some((c) => c.commandId === ackId), 10_000, 'the alert at c-a1')
    await inside.ack(ackId, 'received')
    // c-b (commune B) got a replay of it, played it and says so.
    await outside.ack(ackId, 'received')
    await outside.ack(ackId, 'playing')
    const sent = await publishPlay(outside, play(id))
    await publishPlay(outside, play(id))
    const v = await waitFor(
      async () => {
        const x = await alertView(id)
        return x.untargeted.length >= 4 && x.counts.received >= 1 ? x : undefined
      },
      10_000,
      'the untargeted reports',
    )
    expect(v.counts).toMatchObject({ targeted: 2, received: 1, playing: 0, pending: 1 })
    expect(v.clusters.map((c) => c.clusterId).sort()).toEqual(['c-a', 'c-a1'])
    expect(v.untargeted.map((u) => [u.clusterId, u.channel, u.stage])).toEqual(
      expect.arrayContaining([
        ['c-b', 'ack', 'received'],
        ['c-b', 'ack', 'playing'],
        ['c-b', 'play', 'played'],
      ]),
    )
    expect(v.untargeted.every((u) => u.thing === 'alert' && u.thingId === id && u.clusterId === 'c-b')).toBe(
      true,
    )
    // The same report sent again (same envelope id, as an outbox re-sends) is recorded once.
    await outside.client.publishAsync(tree.device('c-b', 'play'), serializeMessage('play', sent), { qos: 1 })
    await settle(500)
    expect((await alertView(id)).untargeted.filter((u) => u.id === sent.id)).toHaveLength(1)
    // Not a play of this alert in the province's records, but an event on the cluster and a metric.
    const plays = await t.api<{ plays: { clusterId: string }[] }>('GET', `/api/plays?scheduleId=${id}`)
    expect(plays.body.plays.filter((p) => p.clusterId === 'c-b')).toEqual([])
    const events = await t.api<{ events: { kind: string; data: { thingId: string } }[] }>(
      'GET',
      '/api/events?clusterId=c-b&kind=report-untargeted',
    )
    expect(events.body.events.filter((e) => e.data.thingId === id)).toHaveLength(4)
    const m = await t.api<string>('GET', '/metrics')
    expect(m.body).toMatch(/loa_untargeted_reports_total\{channel="ack",thing="alert"\} [2-9]/)
    expect(m.body).toMatch(/loa_untargeted_reports_total\{channel="play",thing="alert"\} [2-9]/)
    // A commune operator of xa-a sees the alert, but not the other commune's cluster in it.
    const scoped = t.apiAs({ role: 'commune-operator', scopeUnitId: 'xa-a' })
    expect((await scoped<View>('GET', `/api/alerts/${id}`)).body.untargeted).toEqual([])
    // The cancel's acknowledgements are the alert's too.
    await t.api('POST', `/api/alerts/${id}/cancel`)
    const cancel = await waitFor(
      () => inside.commands.find((c) => c.kind === 'alert-cancel' && c.alertId === id),
      10_000,
      'the cancel at c-a1',
    )
    await outside.ack(cancel.commandId, 'done')
    await waitFor(
      async () => (await alertView(id)).untargeted.some((u) => u.commandId === cancel.commandId),
      10_000,
      'the cancel ack flagged',
    )
  })

  it("a single cluster's command acked by another cluster: flagged in the command's view", async () => {
    const cmd = await t.api<{ commandId: string }>('POST', '/api/clusters/c-a1/commands', { kind: 'ping' })
    await outside.ack(cmd.body.commandId, 'done')
    await inside.ack(cmd.body.commandId, 'received')
    const v = await waitFor(
      async () => {
        const x = await t.api<{ acks: { clusterId: string }[]; untargeted: UntargetedReport[] }>(
          'GET',
          `/api/commands/${cmd.body.commandId}`,
        )
        return x.body.untargeted.length > 0 && x.body.acks.length > 0 ? x.body : undefined
      },
      10_000,
      'both acks',
    )
    expect(v.acks.map((a) => a.clusterId)).toEqual(['c-a1'])
    expect(v.untargeted).toMatchObject([
      { clusterId: 'c-b', channel: 'ack', thing: 'command', stage: 'done' },
    ])
  })

  it("a live relay's acks from a cluster it never targeted are flagged, not counted", async () => {
    const live = await t.api<{ id: string; ackId: string }>('POST', '/api/lives', {
      title: 'VOV1',
      sourceUrl: 'http://radio.example.vn/vov1.mp3',
      targets: { units: ['xa-a'] },
    })
    await outside.ack(live.body.ackId, 'playing')
    await publishPlay(outside, play(live.body.id))
    const v = await waitFor(
      async () => {
        const x = (await t.api<View>('GET', `/api/lives/${live.body.id}`)).body
        return x.untargeted.length >= 2 ? x : undefined
      },
      10_000,
      'the untargeted reports',
    )
    expect(v.counts).toMatchObject({ targeted: 2, playing: 0, pending: 2 })
    expect(v.untargeted.map((u) => [u.clusterId, u.channel, u.thing]).sort()).toEqual([
      ['c-b', 'ack', 'live'],
      ['c-b', 'play', 'live'],
    ])
    await t.api('POST', `/api/lives/${live.body.id}/stop`)
  })
})

describe('acknowledgements that arrive before the alert is stored', () => {
  it('are sorted when it is: targets fold in, other clusters are set aside', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cp-recipients-'))
    const repos = openSqliteRepositories(path.join(dir, 'loa.db'))
    try {
      await repos.units.create({ id: 'prov', parentId: null, name: 'Tỉnh', kind: 'province', code: null })
      for (const id of ['c-1', 'c-2']) await repos.clusters.create(clusterInput(id, 'prov'))
      const ackId = 'ack-early-0001'
      const at = new Date().toISOString()
      const ack = (id: string, clusterId: string) => ({
        channel: 'ack' as const,
        id,
        clusterId,
        receivedAt: at,
        body: { commandId: ackId, stage: 'received' as const, at },
      })
      // Publishing comes before bookkeeping: both acks are stored before the alert exists.
      await repos.ingest.writeBatch([ack('m-00000001', 'c-1'), ack('m-00000002', 'c-2')])
      await repos.alerts.create(
        {
          id: 'a-early',
          revision: 1,
          ackId,
          title: 'Lũ',
          level: 'emergency',
          priority: 200,
          items: [],
          repeat: 1,
          startsAt: at,
          expiresAt: new Date(Date.now() + 600_000).toISOString(),
          audible: true,
          volume: null,
          state: 'active',
          targets: { units: [], clusters: ['c-1'], tags: [], polygons: [], circles: [] },
          source: 'api',
          createdAt: at,
          updatedAt: at,
        },
        ['c-1'],
      )
      expect(await repos.alerts.counts('a-early')).toMatchObject({ targeted: 1, received: 1 })
      expect((await repos.ingest.listAcks(ackId)).map((a) => a.clusterId)).toEqual(['c-1'])
      expect((await repos.ingest.listUntargeted('alert', 'a-early')).map((u) => u.id)).toEqual(['m-00000002'])
      // From now on a later one is set aside as it arrives.
      await repos.ingest.writeBatch([
        { ...ack('m-00000003', 'c-2'), body: { commandId: ackId, stage: 'playing', at } },
      ])
      expect((await repos.ingest.listUntargeted('alert', 'a-early')).map((u) => u.stage)).toEqual([
        'received',
        'playing',
      ])
      expect(await repos.alerts.counts('a-early')).toMatchObject({ targeted: 1, received: 1, playing: 0 })
      const events = await repos.ingest.listEvents({ clusterId: 'c-2', kind: 'report-untargeted', limit: 10 })
      expect(events).toHaveLength(2)
    } finally {
      await repos.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
