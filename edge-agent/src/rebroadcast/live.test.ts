import {
  type AlertSpec,
  Bands,
  type DesiredStateBody,
  type LiveSpec,
  type ScheduleEntry,
  topicTree,
  type UnaddressedCommandBody,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import type { MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { addressedTo, signed, TEST_KEY } from '../../test-kit/messages.js'
import {
  type MediaServer,
  receiptingClient,
  StreamSource,
  startBroker,
  startMediaServer,
  type Upstream,
} from '../../test-kit/servers.js'
import { servedTone, silentLog, tmp, tone } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'
import type { AgentConfig } from '../config/config.js'
import { sourceSha256 } from './live-session.js'

const tree = topicTree('loa')
const noMs = (d: Date | number) => new Date(d).toISOString().replace(/\.\d+Z$/, 'Z')

interface PlayRow {
  schedule_id: string | null
  status: string
  reason: string | null
  sha256: string
  priority: number
  occurrence: string | null
  duration_ms: number
  started_at: string | null
}

let n = 0
const uid = (p: string) => `${p}-${++n}-${Date.now().toString(36)}`

describe('live relays (real ffmpeg source and player, real SQLite, real broker)', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let server: MediaServer
  let cp: MqttClient
  let bulletin: { sha256: string; size: number; url: string; mime: string; durationMs: number }
  let ups: Upstream[] = []
  const agents: Agent[] = []
  const sources: StreamSource[] = []

  const stages = (ackId: string) =>
    ups
      .filter((u) => u.topic.endsWith('/ack') && u.body.commandId === ackId)
      .map((u) => u.body.stage as string)
  const events = (device: string, kind: string, liveId?: string) =>
    ups.filter(
      (u) =>
        u.topic === tree.device(device, 'event') &&
        u.body.kind === kind &&
        (liveId === undefined || (u.body.data as { liveId?: string } | undefined)?.liveId === liveId),
    )
  const plays = (a: Agent, scheduleId: string) =>
    a.db.prepare('SELECT * FROM plays WHERE schedule_id = ? ORDER BY seq').all(scheduleId) as PlayRow[]
  const ampSwitchLog = (a: Agent) =>
    a.db.prepare('SELECT at, "on" FROM relay_log ORDER BY seq').all() as { at: string; on: number }[]

  function config(deviceId: string, dataDir = tmp('loa-live-')): AgentConfig {
    return {
      deviceId,
      mqtt: { url: broker.url },
      controlPlaneUrl: server.url,
      controlPlaneKey: TEST_KEY,
      topicRoot: 'loa',
      dataDir,
      output: 'null',
      relay: { driver: 'simulated' },
      prerollMs: 300,
      postrollMs: 300,
      cacheBudgetMb: 50,
      minFreeMb: 0,
      telemetryIntervalS: 3600,
      timezone: 'Asia/Ho_Chi_Minh',
      logLevel: 'silent',
    }
  }

  async function startAgent(deviceId: string, dataDir?: string): Promise<Agent> {
    const a = new Agent(config(deviceId, dataDir), silentLog, {
      flushIntervalMs: 100,
      live: { retryBaseMs: 500, retryMaxMs: 2000, timeouts: { connectMs: 4000, stallMs: 3000 } },
    })
    agents.push(a)
    const presence = () =>
      ups.filter((u) => u.topic === tree.device(deviceId, 'presence') && u.body.online === true).length
    const before = presence()
    await a.start()
    await waitFor(() => presence() > before, 10_000, 'presence')
    return a
  }

  async function source(): Promise<StreamSource> {
    const s = new StreamSource()
    sources.push(s)
    await s.up()
    return s
  }

  function live(src: StreamSource, over: Partial<LiveSpec> = {}): LiveSpec {
    return {
      liveId: uid('live'),
      revision: 1,
      ackId: uid('ack'),
      title: 'VOV1 thời sự',
      sourceUrl: src.url,
      priority: Bands.relay,
      startsAt: noMs(Date.now() - 1000),
      endsAt: null,
      ...over,
    }
  }

  /** A fresh source, a fresh agent, and a live started on it by command and playing. */
  async function playing(deviceId: string) {
    const src = await source()
    const agent = await startAgent(deviceId)
    const l = live(src)
    await startLive(deviceId, l)
    await waitFor(() => stages(l.ackId).includes('playing'), 20_000, 'playing')
    return { src, agent, l }
  }

  async function send(deviceId: string, body: UnaddressedCommandBody) {
    const topic = tree.device(deviceId, 'cmd')
    await cp.publishAsync(topic, JSON.stringify(signed('cmd', addressedTo(topic, body))), { qos: 1 })
  }
  const deadline = () => new Date(Date.now() + 60_000).toISOString()
  const startLive = (d: string, l: LiveSpec) =>
    send(d, { commandId: uid('cmd'), kind: 'live-start', deadline: deadline(), live: l })
  const stopLive = (d: string, liveId: string) =>
    send(d, { commandId: uid('cmd'), kind: 'live-stop', deadline: deadline(), liveId })

  function state(deviceId: string, version: number, over: Partial<DesiredStateBody> = {}): DesiredStateBody {
    return {
      deviceId,
      version,
      generatedAt: new Date().toISOString(),
      timezone: 'Asia/Ho_Chi_Minh',
      units: [],
      volume: 80,
      media: [bulletin],
      schedule: [],
      fallback: null,
      ...over,
    }
  }
  async function publishDesired(body: DesiredStateBody) {
    await cp.publishAsync(tree.device(body.deviceId, 'desired'), JSON.stringify(signed('desired', body)), {
      qos: 1,
    })
  }
  const once = (id: string, at: number, priority: number = Bands.normal): ScheduleEntry => ({
    id,
    title: id,
    level: 'normal',
    priority,
    items: [bulletin.sha256],
    recurrence: { kind: 'once', at: noMs(at) },
  })

  beforeAll(async () => {
    broker = await startBroker()
    server = await startMediaServer()
    bulletin = servedTone(server, 2)
    const client = await receiptingClient(broker.url, 'cp-live-test')
    cp = client.cp
    ups = client.ups
  }, 60_000)

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop().catch(() => {})
    for (const s of sources.splice(0)) await s.down()
  })

  afterAll(async () => {
    await cp.endAsync()
    await broker.close()
    await server.close()
  })

  it('live-start plays the stream (received → playing, amplifier on); live-stop stops it (cancelled, amplifier off)', async () => {
    const { src, agent, l } = await playing('pi-lv1')
    expect(stages(l.ackId)).toEqual(['received', 'playing'])
    expect(agent.ampSwitch.isOn()).toBe(true)
    expect(agent.scheduler.nowPlaying?.scheduleId).toBe(l.liveId)
    await waitFor(() => events('pi-lv1', 'live-playing', l.liveId).length > 0, 5_000, 'live-playing event')
    expect(events('pi-lv1', 'live-connecting', l.liveId).length).toBeGreaterThan(0)
    await new Promise((r) => setTimeout(r, 1500))
    await stopLive('pi-lv1', l.liveId)
    await waitFor(() => stages(l.ackId).includes('cancelled'), 10_000, 'cancelled')
    await waitFor(() => !agent.ampSwitch.isOn(), 5_000, 'amplifier off')
    const [r] = await waitFor(
      () => plays(agent, l.liveId).length > 0 && plays(agent, l.liveId),
      5_000,
      'report',
    )
    expect(r).toMatchObject({ status: 'interrupted', reason: 'stopped', sha256: sourceSha256(src.url) })
    expect(r?.duration_ms).toBeGreaterThan(1000)
    expect(events('pi-lv1', 'live-ended', l.liveId).length).toBe(1)
    // The stopped live, delivered again (desired state, another topic), does not start again.
    await startLive('pi-lv1', l)
    await new Promise((r) => setTimeout(r, 1500))
    expect(agent.ampSwitch.isOn()).toBe(false)
    expect(stages(l.ackId)).toEqual(['received', 'playing', 'cancelled'])
  }, 60_000)

  it('a dead source is retried with backoff while the schedule plays; it resumes when the source returns', async () => {
    const { src, agent, l } = await playing('pi-lv2')
    await src.down()
    await waitFor(() => events('pi-lv2', 'live-dropped', l.liveId).length > 0, 15_000, 'live-dropped')
    await waitFor(() => stages(l.ackId).includes('failed'), 5_000, 'failed ack')
    await waitFor(() => !agent.ampSwitch.isOn(), 10_000, 'amplifier off while the source is dead')
    // A bulletin due while the source is dead plays.
    const at = Math.ceil((Date.now() + 2500) / 1000) * 1000
    await publishDesired(state('pi-lv2', 1, { schedule: [once('news-lv2', at)] }))
    await waitFor(() => plays(agent, 'news-lv2').length > 0, 20_000, 'bulletin report')
    expect(plays(agent, 'news-lv2')[0]?.status).toBe('played')
    // Connection attempts keep failing meanwhile: reported each time.
    expect(events('pi-lv2', 'live-dropped', l.liveId).length).toBeGreaterThan(1)
    await src.up()
    await waitFor(() => stages(l.ackId).filter((s) => s === 'playing').length === 2, 20_000, 'playing again')
    expect(agent.ampSwitch.isOn()).toBe(true)
    const reports = plays(agent, l.liveId)
    expect(reports[0]).toMatchObject({ status: 'interrupted' })
    expect(reports[0]?.reason).toMatch(/^dropped: /)
  }, 90_000)

  it('a source that hangs with the connection open is noticed within seconds and dropped', async () => {
    const { src, agent, l } = await playing('pi-lv8')
    src.stall()
    const t = Date.now()
    await waitFor(() => events('pi-lv8', 'live-dropped', l.liveId).length > 0, 15_000, 'live-dropped')
    // Agent timeouts here are 3 s (stall) / 4 s (connect): noticed well before a human would call it dead air.
    expect(Date.now() - t).toBeLessThan(8000)
    await waitFor(() => !agent.ampSwitch.isOn(), 5_000, 'amplifier off')
    expect(stages(l.ackId)).toEqual(['received', 'playing', 'failed'])
  }, 60_000)

  it('endsAt ends it (done, reported played); an expired live never starts', async () => {
    const src = await source()
    const agent = await startAgent('pi-lv3')
    const l = live(src, { endsAt: noMs(Date.now() + 5000) })
    const expired = live(src, { startsAt: noMs(Date.now() - 60_000), endsAt: noMs(Date.now() - 1000) })
    await startLive('pi-lv3', expired)
    await startLive('pi-lv3', l)
    await waitFor(() => stages(l.ackId).includes('done'), 20_000, 'done')
    expect(stages(l.ackId)).toEqual(['received', 'playing', 'done'])
    const [r] = await waitFor(
      () => plays(agent, l.liveId).length > 0 && plays(agent, l.liveId),
      5_000,
      'report',
    )
    expect(r).toMatchObject({ status: 'played', occurrence: l.startsAt })
    expect(stages(expired.ackId)).toEqual(['expired'])
    expect(events('pi-lv3', 'live-connecting', expired.liveId)).toHaveLength(0)
    await waitFor(() => !agent.ampSwitch.isOn(), 5_000, 'amplifier off')
    // A live-start past its command deadline is not carried out, but the open-ended live is joined from
    // desired.lives (its command outlived, the live did not).
    const stale = live(src)
    const past = new Date(Date.now() - 1000).toISOString()
    await send('pi-lv3', { commandId: uid('cmd'), kind: 'live-start', deadline: past, live: stale })
    await waitFor(() => events('pi-lv3', 'command-rejected').length > 0, 5_000, 'stale command rejected')
    expect(stages(stale.ackId)).toEqual([])
    await publishDesired(state('pi-lv3', 1, { lives: [stale] }))
    await waitFor(() => stages(stale.ackId).includes('playing'), 20_000, 'joined from desired')
  }, 60_000)

  it('an alert preempts the relay, which resumes after it; the relay preempts a normal bulletin', async () => {
    const src = await source()
    const agent = await startAgent('pi-lv4')
    const longBulletin = tone(tmp('loa-live-long-'), 20, 330)
    server.files.set(`/media/${longBulletin.sha256}`, longBulletin.data)
    const longRef = {
      sha256: longBulletin.sha256,
      size: longBulletin.data.length,
      url: `media/${longBulletin.sha256}`,
      mime: 'audio/ogg',
      durationMs: 20_000,
    }
    const at = Math.ceil((Date.now() + 3000) / 1000) * 1000
    await publishDesired(
      state('pi-lv4', 1, {
        media: [bulletin, longRef],
        // Dropped when preempted, so the amplifier goes off once the live is stopped.
        schedule: [{ ...once('news-lv4', at), items: [longRef.sha256], onPreempt: 'drop' }],
      }),
    )
    await waitFor(() => agent.scheduler.nowPlaying?.scheduleId === 'news-lv4', 20_000, 'bulletin playing')
    const l = live(src)
    await startLive('pi-lv4', l)
    await waitFor(() => stages(l.ackId).includes('playing'), 20_000, 'relay playing')
    expect(agent.scheduler.nowPlaying?.scheduleId).toBe(l.liveId)
    // The alert takes over, then the relay comes back.
    const alert: AlertSpec = {
      alertId: uid('al'),
      revision: 1,
      ackId: uid('alack'),
      title: 'flood',
      level: 'emergency',
      priority: Bands.emergency,
      items: [bulletin],
      repeat: 1,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
      audible: true,
    }
    await send('pi-lv4', { commandId: uid('cmd'), kind: 'alert', deadline: deadline(), alert })
    await waitFor(() => agent.scheduler.nowPlaying?.scheduleId === alert.alertId, 15_000, 'alert playing')
    await waitFor(() => stages(alert.ackId).includes('done'), 20_000, 'alert done')
    await waitFor(() => agent.scheduler.nowPlaying?.scheduleId === l.liveId, 10_000, 'relay resumed')
    await waitFor(() => events('pi-lv4', 'live-playing', l.liveId).length >= 2, 5_000, 'second live-playing')
    await stopLive('pi-lv4', l.liveId)
    await waitFor(() => !agent.ampSwitch.isOn(), 10_000, 'amplifier off')
    const lr = plays(agent, l.liveId)
    expect(lr.map((r) => r.status)).toEqual(['interrupted', 'interrupted'])
    expect(lr[0]?.reason).toMatch(/preempted by flood/)
    const br = plays(agent, 'news-lv4')
    expect(br[0]).toMatchObject({ status: 'interrupted' })
    expect(br[0]?.reason).toMatch(/preempted by VOV1/)
    // One amplifier-on period throughout: the amplifier was never switched off in between.
    expect(ampSwitchLog(agent).map((r) => r.on)).toEqual([1, 0])
  }, 90_000)

  it('a late joiner picks the relay up from desired.lives; a restart rejoins it; leaving lives stops it', async () => {
    const src = await source()
    const dir = tmp('loa-live-restart-')
    let agent = await startAgent('pi-lv5', dir)
    const l = live(src)
    await publishDesired(state('pi-lv5', 1, { lives: [l] }))
    await waitFor(() => stages(l.ackId).includes('playing'), 20_000, 'playing from desired')
    await agent.stop()
    agents.splice(agents.indexOf(agent), 1)
    agent = await startAgent('pi-lv5', dir)
    const [r] = plays(agent, l.liveId)
    expect(r).toMatchObject({ status: 'interrupted', reason: 'shutdown' })
    await waitFor(() => stages(l.ackId).filter((s) => s === 'playing').length === 2, 20_000, 'rejoined')
    expect(agent.ampSwitch.isOn()).toBe(true)
    // A newer desired state without it: it was stopped while the device was away (live-stop missed).
    await publishDesired(state('pi-lv5', 2))
    await waitFor(() => stages(l.ackId).includes('cancelled'), 10_000, 'cancelled')
    await waitFor(() => !agent.ampSwitch.isOn(), 5_000, 'amplifier off')
    // Once stopped, a restart does not start it again, even from a desired state still listing it.
    await agent.stop()
    agents.splice(agents.indexOf(agent), 1)
    agent = await startAgent('pi-lv5', dir)
    await publishDesired(state('pi-lv5', 3, { lives: [l] }))
    await new Promise((r) => setTimeout(r, 2500))
    expect(agent.ampSwitch.isOn()).toBe(false)
    expect(events('pi-lv5', 'live-connecting', l.liveId)).toHaveLength(2)
  }, 90_000)

  it('a higher revision with a new source reconnects to it; the old ackId is cancelled', async () => {
    const [a, b] = [await source(), await source()]
    const agent = await startAgent('pi-lv7')
    const l = live(a)
    await startLive('pi-lv7', l)
    await waitFor(() => stages(l.ackId).includes('playing'), 20_000, 'playing r1')
    const r2 = { ...l, revision: 2, ackId: uid('ack'), sourceUrl: b.url }
    await startLive('pi-lv7', r2)
    await waitFor(() => stages(r2.ackId).includes('playing'), 20_000, 'playing r2')
    expect(stages(l.ackId)).toEqual(['received', 'playing', 'cancelled'])
    await waitFor(
      () => a.listeners === 1 && b.listeners === 1 && agent.ampSwitch.isOn(),
      5_000,
      'one listener each',
    )
    // Revision 1 again (a late duplicate) changes nothing.
    await startLive('pi-lv7', l)
    await new Promise((r) => setTimeout(r, 1000))
    expect(stages(r2.ackId)).toEqual(['received', 'playing'])
    expect(plays(agent, l.liveId)[0]).toMatchObject({
      status: 'interrupted',
      reason: 'replaced by revision 2',
      sha256: sourceSha256(a.url),
    })
  }, 60_000)

  it('a recurring relay starts at its occurrence and stops after durationS', async () => {
    const src = await source()
    const agent = await startAgent('pi-lv6')
    const at = Math.ceil((Date.now() + 2000) / 1000) * 1000
    await publishDesired(
      state('pi-lv6', 1, {
        relays: [
          {
            id: 'vov-news',
            title: 'VOV news',
            sourceUrl: src.url,
            priority: Bands.relay,
            recurrence: { kind: 'once', at: noMs(at) },
            durationS: 10,
          },
        ],
      }),
    )
    await waitFor(() => agent.scheduler.nowPlaying?.scheduleId === 'vov-news', 20_000, 'relay playing')
    expect(Date.now()).toBeGreaterThanOrEqual(at)
    await waitFor(() => plays(agent, 'vov-news').length > 0, 25_000, 'report')
    const [r] = plays(agent, 'vov-news')
    expect(r).toMatchObject({ status: 'played', occurrence: new Date(at).toISOString() })
    const ended = Date.parse(events('pi-lv6', 'live-ended', 'vov-news')[0]?.body.at as string)
    expect(ended - at).toBeGreaterThanOrEqual(9_500)
    expect(ended - at).toBeLessThan(12_000)
    expect(agent.ampSwitch.isOn()).toBe(false)
  }, 60_000)
})
