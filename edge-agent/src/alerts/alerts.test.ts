import {
  type AlertSpec,
  Bands,
  type DesiredStateBody,
  topicTree,
  type UnaddressedCommandBody,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addressedTo, signed, TEST_KEY, testAlert } from '../../test-kit/messages.js'
import {
  type MediaServer,
  receiptingClient,
  startBroker,
  startMediaServer,
  type Upstream,
} from '../../test-kit/servers.js'
import { silentLog, tmp, tone } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'
import type { AgentConfig } from '../config/config.js'

const tree = topicTree('loa')
const noMs = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z')

interface Ack {
  commandId: string
  stage: string
  reason?: string
  at: string
}
interface PlayRow {
  schedule_id: string | null
  title: string
  status: string
  reason: string | null
  level: string
  priority: number
  occurrence: string | null
  duration_ms: number
  started_at: string | null
}

let n = 0
const uid = (p: string) => `${p}-${++n}-${Date.now().toString(36)}`

describe('alerts over a real in-process broker (real ffmpeg null sink, real SQLite)', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let server: MediaServer
  let cp: MqttClient
  let ups: Upstream[] = []
  const agents: Agent[] = []
  let media: Record<
    'long' | 'short' | 'fresh',
    { sha256: string; size: number; url: string; mime: string; durationMs: number }
  >
  let agent: Agent

  const acks = (ackId: string) =>
    ups
      .filter((u) => u.topic.endsWith('/ack') && u.body.commandId === ackId)
      .map((u) => u.body as unknown as Ack)
  const stages = (ackId: string) => acks(ackId).map((a) => a.stage)
  const events = (device: string, kind: string) =>
    ups.filter((u) => u.topic === tree.device(device, 'event') && u.body.kind === kind)
  const plays = (a: Agent, scheduleId: string) =>
    a.db.prepare('SELECT * FROM plays WHERE schedule_id = ? ORDER BY seq').all(scheduleId) as PlayRow[]
  /** Play reports are written once the amplifier is off again, after the `done` ack. */
  const playsN = (a: Agent, scheduleId: string, count: number) =>
    waitFor(() => plays(a, scheduleId).length >= count && plays(a, scheduleId), 10_000, `${count} reports`)
  const ampSwitchLog = (a: Agent) =>
    a.db.prepare('SELECT at, "on" FROM relay_log ORDER BY seq').all() as { at: string; on: number }[]

  function config(deviceId: string): AgentConfig {
    return {
      deviceId,
      mqtt: { url: broker.url },
      controlPlaneUrl: server.url,
      controlPlaneKey: TEST_KEY,
      topicRoot: 'loa',
      dataDir: tmp('loa-alerts-'),
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

  async function startAgent(deviceId: string): Promise<Agent> {
    const a = new Agent(config(deviceId), silentLog, { flushIntervalMs: 100 })
    agents.push(a)
    await a.start()
    await waitFor(
      () => ups.some((u) => u.topic === tree.device(deviceId, 'presence') && u.body.online === true),
      10_000,
      'presence',
    )
    return a
  }

  const alert = (over: Partial<AlertSpec> = {}): AlertSpec => testAlert([media.short], over)

  async function send(body: UnaddressedCommandBody, topic: string) {
    await cp.publishAsync(topic, JSON.stringify(signed('cmd', addressedTo(topic, body))), { qos: 1 })
  }
  const deadline = () => new Date(Date.now() + 60_000).toISOString()
  const sendAlert = (a: AlertSpec, topic = tree.device('pi-al', 'cmd')) =>
    send({ commandId: uid('cmd'), kind: 'alert', deadline: deadline(), alert: a }, topic)

  function state(deviceId: string, version: number, over: Partial<DesiredStateBody> = {}): DesiredStateBody {
    return {
      deviceId,
      version,
      generatedAt: new Date().toISOString(),
      timezone: 'Asia/Ho_Chi_Minh',
      units: [],
      volume: 80,
      media: [media.long],
      schedule: [],
      fallback: null,
      ...over,
    }
  }
  async function publishDesired(body: DesiredStateBody, retain = false) {
    await cp.publishAsync(tree.device(body.deviceId, 'desired'), JSON.stringify(signed('desired', body)), {
      qos: 1,
      retain,
    })
  }

  beforeAll(async () => {
    broker = await startBroker()
    server = await startMediaServer()
    const dir = tmp('loa-alert-media-')
    const files = { long: tone(dir, 4, 440), short: tone(dir, 1, 880), fresh: tone(dir, 1, 660) }
    media = {} as typeof media
    for (const [k, t] of Object.entries(files) as [keyof typeof files, (typeof files)['long']][]) {
      server.files.set(`/media/${t.sha256}`, t.data)
      media[k] = {
        sha256: t.sha256,
        size: t.data.length,
        url: `media/${t.sha256}`,
        mime: 'audio/ogg',
        durationMs: k === 'long' ? 4000 : 1000,
      }
    }
    const client = await receiptingClient(broker.url, 'cp-alerts-test')
    cp = client.cp
    ups = client.ups
    agent = await startAgent('pi-al')
    // The long tone is cached through the desired state; the short one is fetched by the first alert.
    await publishDesired(state('pi-al', 1, { units: ['prov-1', 'commune-7'] }))
    await waitFor(() => agent.cache.isReady(media.long.sha256), 15_000, 'long tone cached')
  }, 60_000)

  afterAll(async () => {
    for (const a of agents) await a.stop().catch(() => {})
    await cp.endAsync()
    await broker.close()
    await server.close()
  })

  it('downloads missing media at once, acks received → playing → done, plays `repeat` times, reports each play', async () => {
    const a = alert({ repeat: 2, items: [media.short] })
    await sendAlert(a)
    await waitFor(() => stages(a.ackId).includes('done'), 20_000, 'done')
    expect(stages(a.ackId)).toEqual(['received', 'playing', 'done'])
    const rows = await playsN(agent, a.alertId, 2)
    expect(rows.map((r) => r.status)).toEqual(['played', 'played'])
    expect(rows[0]).toMatchObject({ level: 'emergency', priority: Bands.emergency, occurrence: a.startsAt })
    expect(
      events('pi-al', 'alert-received').some(
        (e) => e.body.data && (e.body.data as { alertId: string }).alertId === a.alertId,
      ),
    ).toBe(true)
  }, 30_000)

  it('a cached alert starts within about 2 s of receipt; a duplicate command does not play it twice', async () => {
    const a = alert()
    const sent = Date.now()
    await sendAlert(a)
    await waitFor(() => stages(a.ackId).includes('done'), 20_000, 'done')
    const started = Date.parse((await playsN(agent, a.alertId, 1))[0]?.started_at as string)
    expect(started - sent).toBeLessThan(3000) // target < 2 s; generous for a shared machine
    await sendAlert(a)
    await sendAlert(a, tree.unitCommands('prov-1'))
    await new Promise((r) => setTimeout(r, 2500))
    expect(plays(agent, a.alertId)).toHaveLength(1)
    expect(stages(a.ackId)).toEqual(['received', 'playing', 'done'])
  }, 30_000)

  it('an alert on a unit topic the agent subscribed to plays', async () => {
    const a = alert()
    await sendAlert(a, tree.unitCommands('commune-7'))
    await waitFor(() => stages(a.ackId).includes('done'), 20_000, 'done')
    expect((await playsN(agent, a.alertId, 1)).map((r) => r.status)).toEqual(['played'])
  }, 30_000)

  it('cancel while playing stops it within a second, acks cancelled; the cancel command is acked done', async () => {
    const a = alert({ items: [media.long] })
    await sendAlert(a)
    await waitFor(() => stages(a.ackId).includes('playing'), 20_000, 'playing')
    const cancelId = uid('cancel')
    const t = Date.now()
    await send(
      { commandId: cancelId, kind: 'alert-cancel', deadline: deadline(), alertId: a.alertId },
      tree.device('pi-al', 'cmd'),
    )
    await waitFor(() => plays(agent, a.alertId).length > 0, 10_000, 'report')
    const [r] = plays(agent, a.alertId)
    expect(r).toMatchObject({ status: 'interrupted', reason: 'cancelled' })
    // Stopped within a second of the cancel (the report's end, not the amplifier's post-roll).
    expect(Date.parse((r as unknown as { ended_at: string }).ended_at) - t).toBeLessThan(1500)
    await waitFor(() => stages(a.ackId).includes('cancelled'), 5_000, 'cancelled ack')
    expect(stages(a.ackId)).toEqual(['received', 'playing', 'cancelled'])
    await waitFor(() => stages(cancelId).includes('done'), 5_000, 'cancel done')
    expect(agent.ampSwitch.isOn()).toBe(false)
    expect(events('pi-al', 'alert-cancelled').length).toBeGreaterThan(0)
  }, 30_000)

  it('an expired alert never starts and is acked expired; audible=false never switches the amplifier', async () => {
    const expired = alert({ expiresAt: new Date(Date.now() - 1000).toISOString() })
    const test = alert({ audible: false })
    const switchesBefore = ampSwitchLog(agent).length
    await sendAlert(expired)
    await sendAlert(test)
    await waitFor(
      () => stages(expired.ackId).includes('expired') && stages(test.ackId).includes('done'),
      10_000,
      'acks',
    )
    await new Promise((r) => setTimeout(r, 1500))
    expect(stages(expired.ackId)).toEqual(['expired'])
    expect(stages(test.ackId)).toEqual(['received', 'done'])
    expect(acks(test.ackId)[1]?.reason).toBe('not audible (test/exercise)')
    expect(plays(agent, expired.alertId)).toHaveLength(0)
    expect(plays(agent, test.alertId)).toHaveLength(0)
    expect(ampSwitchLog(agent)).toHaveLength(switchesBefore)
    expect(events('pi-al', 'alert-expired').length).toBeGreaterThan(0)
  }, 30_000)

  it('an alert that expires while playing is stopped and acked expired', async () => {
    const a = alert({ items: [media.long], expiresAt: new Date(Date.now() + 2500).toISOString() })
    await sendAlert(a)
    await waitFor(() => stages(a.ackId).includes('expired'), 10_000, 'expired')
    await waitFor(() => plays(agent, a.alertId).length > 0, 10_000, 'report')
    expect(plays(agent, a.alertId)[0]).toMatchObject({ status: 'interrupted', reason: 'expired' })
    expect(stages(a.ackId)).toEqual(['received', 'playing', 'expired'])
  }, 30_000)

  it('a higher revision replaces the alert at once, even while it plays', async () => {
    const a1 = alert({ items: [media.long] })
    await sendAlert(a1)
    await waitFor(() => stages(a1.ackId).includes('playing'), 20_000, 'playing r1')
    const a2 = {
      ...a1,
      revision: 2,
      ackId: uid('ack'),
      title: 'flood warning (update)',
      items: [media.fresh],
    }
    await sendAlert(a2)
    await waitFor(() => stages(a2.ackId).includes('done'), 20_000, 'done r2')
    const rows = await playsN(agent, a1.alertId, 2)
    expect(rows.map((r) => [r.title, r.status, r.reason])).toEqual([
      ['flood warning', 'interrupted', 'replaced by revision 2'],
      ['flood warning (update)', 'played', null],
    ])
    expect(rows[0]?.duration_ms).toBeLessThan(3500)
    expect(stages(a1.ackId)).toEqual(['received', 'playing', 'cancelled'])
    expect(stages(a2.ackId)).toEqual(['received', 'playing', 'done'])
    // An older revision arriving late changes nothing.
    await sendAlert(a1)
    await new Promise((r) => setTimeout(r, 1000))
    expect(plays(agent, a1.alertId)).toHaveLength(2)
  }, 40_000)

  it('preempts a scheduled bulletin with the amplifier held on (no off/on between them)', async () => {
    const at = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000)
    const schedule = [
      {
        id: 'news',
        title: 'news',
        level: 'normal' as const,
        priority: Bands.normal,
        items: [media.long.sha256],
        recurrence: { kind: 'once' as const, at: noMs(at) },
        onPreempt: 'resume' as const,
      },
    ]
    await publishDesired(state('pi-al', 2, { units: ['prov-1', 'commune-7'], schedule }))
    await waitFor(() => agent.scheduler.nowPlaying?.scheduleId === 'news', 10_000, 'news playing')
    const switchesBefore = ampSwitchLog(agent).length
    const a = alert()
    await sendAlert(a)
    await waitFor(() => plays(agent, 'news').length >= 2, 20_000, 'news resumed')
    const news = plays(agent, 'news')
    expect(news[0]).toMatchObject({
      status: 'interrupted',
      reason: `preempted by flood warning (band ${Bands.emergency})`,
    })
    expect(news[1]?.status).toBe('played')
    expect(plays(agent, a.alertId).map((r) => r.status)).toEqual(['played'])
    // The amplifier was on before the alert and went off once after the resumed part.
    await waitFor(() => !agent.ampSwitch.isOn(), 5_000, 'amplifier off')
    expect(
      ampSwitchLog(agent)
        .slice(switchesBefore - 1)
        .map((r) => r.on),
    ).toEqual([1, 0])
  }, 40_000)

  it('an alert whose media cannot be fetched is acked failed (media unavailable) and never switches the amplifier', async () => {
    const missing = { ...media.short, sha256: 'f'.repeat(64), url: 'media/nowhere' }
    const a = alert({ items: [missing] })
    const switchesBefore = ampSwitchLog(agent).length
    await sendAlert(a)
    await waitFor(() => stages(a.ackId).includes('failed'), 20_000, 'failed')
    expect(stages(a.ackId)).toEqual(['received', 'failed'])
    expect(acks(a.ackId)[1]?.reason).toMatch(/^media unavailable: f{64}: LOA_DOWNLOAD_HTTP/)
    expect(plays(agent, a.alertId)).toHaveLength(0)
    expect(ampSwitchLog(agent)).toHaveLength(switchesBefore)
  }, 30_000)

  it('a higher emergency alert preempts a lower one, which then plays its interrupted item again', async () => {
    const low = alert({ items: [media.long], title: 'storm' })
    await sendAlert(low)
    await waitFor(() => stages(low.ackId).includes('playing'), 20_000, 'low playing')
    const high = alert({ priority: 230, title: 'dam release' })
    await sendAlert(high)
    await waitFor(() => stages(low.ackId).includes('done'), 30_000, 'low done')
    const rows = await playsN(agent, low.alertId, 2)
    expect(rows.map((r) => [r.status, r.reason])).toEqual([
      ['interrupted', 'preempted by dam release (band 230)'],
      ['played', null],
    ])
    expect(rows[1]?.duration_ms).toBeGreaterThanOrEqual(3800)
    expect(stages(high.ackId)).toEqual(['received', 'playing', 'done'])
    expect(stages(low.ackId)).toEqual(['received', 'playing', 'done'])
  }, 40_000)

  it('an alert active when the agent stops plays again after a restart', async () => {
    const a = alert({ items: [media.long], alertId: uid('restart') })
    const first = await startAgent('pi-rs')
    await send(
      { commandId: uid('cmd'), kind: 'alert', deadline: deadline(), alert: a },
      tree.device('pi-rs', 'cmd'),
    )
    await waitFor(() => stages(a.ackId).includes('playing'), 20_000, 'playing')
    const dataDir = first.config.dataDir
    await first.stop()
    agents.splice(agents.indexOf(first), 1)
    const again = new Agent({ ...config('pi-rs'), dataDir }, silentLog, { flushIntervalMs: 100 })
    agents.push(again)
    await again.start()
    await waitFor(() => stages(a.ackId).includes('done'), 20_000, 'done after restart')
    const rows = await playsN(again, a.alertId, 2)
    expect(rows.map((r) => [r.status, r.reason])).toEqual([
      ['interrupted', 'shutdown'],
      ['played', null],
    ])
  }, 40_000)

  it('a late-joining agent picks the alert up from desired.alerts; a restart does not replay it', async () => {
    const a = alert({ items: [media.short], alertId: uid('late') })
    await publishDesired(state('pi-late', 1, { alerts: [a] }), true)
    const late = await startAgent('pi-late')
    await waitFor(() => stages(a.ackId).includes('done'), 20_000, 'done on the late agent')
    expect(stages(a.ackId)).toEqual(['received', 'playing', 'done'])
    expect((await playsN(late, a.alertId, 1)).map((r) => r.status)).toEqual(['played'])
    // Restart on the same data dir: the alert is finished, the retained desired state lists it again.
    const dataDir = late.config.dataDir
    await late.stop()
    agents.splice(agents.indexOf(late), 1)
    const again = new Agent({ ...config('pi-late'), dataDir }, silentLog, { flushIntervalMs: 100 })
    agents.push(again)
    await again.start()
    await new Promise((r) => setTimeout(r, 2500))
    expect(plays(again, a.alertId)).toHaveLength(1)
    await cp.publishAsync(tree.device('pi-late', 'desired'), '', { qos: 1, retain: true })
  }, 40_000)
})
