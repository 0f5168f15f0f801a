// Test-only: the live relay tests' rig (real broker, media server, ffmpeg sources, agents) and their helpers.
import {
  Bands,
  type DesiredStateBody,
  type LiveSpec,
  type MediaRef,
  type ScheduleEntry,
  topicTree,
  type UnaddressedCommandBody,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import type { MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { Agent } from '../src/agent.js'
import type { AgentConfig } from '../src/config/config.js'
import { addressedTo, signed, TEST_KEY } from './messages.js'
import {
  type MediaServer,
  receiptingClient,
  StreamSource,
  startBroker,
  startMediaServer,
  type Upstream,
} from './servers.js'
import { servedTone, silentLog, tmp } from './test-helpers.js'

const tree = topicTree('loa')
/** An instant as the control plane sends it: whole seconds. */
export const noMs = (d: Date | number) => new Date(d).toISOString().replace(/\.\d+Z$/, 'Z')

export interface PlayRow {
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
export const uid = (p: string) => `${p}-${++n}-${Date.now().toString(36)}`

/**
 * Call inside a describe: one broker, media server (serving `bulletin`, a 2 s tone) and receipting control plane
 * for the file; the agents and sources a test starts are stopped after it.
 */
export function useLiveRig() {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let server: MediaServer
  let cp: MqttClient
  let bulletin: MediaRef
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

  return {
    get server() {
      return server
    },
    get bulletin() {
      return bulletin
    },
    agents,
    stages,
    events,
    plays,
    ampSwitchLog,
    startAgent,
    source,
    live,
    playing,
    send,
    deadline,
    startLive,
    stopLive,
    state,
    publishDesired,
    once,
  }
}
