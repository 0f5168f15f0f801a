import { randomBytes } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import {
  CHANNEL_MESSAGES,
  DESIRED_BODY_MAX_BYTES,
  DESIRED_LIMITS,
  type DesiredStateBody,
  serializeMessage,
  topicTree,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { desired, signed } from '../../test-kit/messages.js'
import {
  type MediaServer,
  receiptingClient,
  startBroker,
  startMediaServer,
  type Upstream,
} from '../../test-kit/servers.js'
import { sha256, silentLog, testAgentConfig } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'

setFlagsFromString('--expose_gc')
const gc = runInNewContext('gc') as () => void

const tree = topicTree('loa')

/** The largest desired state the limits allow: every schedule entry, as many items each as the bytes permit. */
function largest(
  deviceId: string,
  version: number,
  media: { sha256: string; size: number }[],
): DesiredStateBody {
  const body: DesiredStateBody = {
    ...desired(
      version,
      media.map((m) => ({ ...m, url: `/media/${m.sha256}` })),
    ),
    deviceId,
  }
  const entry = (i: number, items: number) => ({
    id: `s-${i}`,
    title: 'Bản tin phòng chống thiên tai '.repeat(7).slice(0, DESIRED_LIMITS.titleLength),
    level: 'normal' as const,
    priority: 50,
    items: Array.from(
      { length: items },
      (_, k) => (media[(i + k) % media.length] as { sha256: string }).sha256,
    ),
    recurrence: {
      kind: 'weekly' as const,
      daysOfWeek: [1, 2, 3, 4, 5],
      times: ['06:00'],
      startDate: '2026-01-01',
    },
  })
  const perEntry = (DESIRED_BODY_MAX_BYTES - JSON.stringify(body).length) / DESIRED_LIMITS.schedule
  const items = Math.max(1, Math.floor((perEntry - JSON.stringify(entry(0, 0)).length) / 67))
  body.schedule = Array.from({ length: DESIRED_LIMITS.schedule }, (_, i) => entry(i, items))
  while (Buffer.byteLength(JSON.stringify(body)) > DESIRED_BODY_MAX_BYTES) body.schedule.pop()
  return body
}

describe('desired states under bursts, on the agent', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let cp: MqttClient
  let ups: Upstream[]
  let files: MediaServer
  const agents: Agent[] = []
  const media: { sha256: string; size: number }[] = []

  const start = async (deviceId: string) => {
    const a = new Agent(
      testAgentConfig(deviceId, broker.url, { controlPlaneUrl: files.url, cacheBudgetMb: 50 }),
      silentLog,
      { flushIntervalMs: 200 },
    )
    agents.push(a)
    await a.start()
    await waitFor(() => a.link.connected, 10_000, 'agent connected')
    await new Promise((r) => setTimeout(r, 200))
    return a
  }
  const send = (deviceId: string, payload: Buffer | string, channel: 'desired' | 'cmd' = 'desired') =>
    cp.publishAsync(tree.device(deviceId, channel), payload, { qos: 1 })
  const rejections = (deviceId: string) =>
    ups
      .filter((u) => u.topic === tree.device(deviceId, 'event') && u.body.kind === 'message-rejected')
      .map((u) => u.body.data as { code: string; messageId?: string; suppressedBefore?: number })

  beforeAll(async () => {
    broker = await startBroker()
    files = await startMediaServer()
    for (let i = 0; i < 20; i++) {
      const data = randomBytes(1024)
      media.push({ sha256: sha256(data), size: data.length })
      files.files.set(`/media/${sha256(data)}`, data)
    }
    ;({ cp, ups } = await receiptingClient(broker.url, 'cp-burst-test'))
  })
  afterAll(async () => {
    for (const a of agents) await a.stop().catch(() => {})
    await cp.endAsync()
    await broker.close()
    await files.close()
  })

  it('drops a state not newer than the one held before checking its signature, counted and not reported', async () => {
    const dev = 'pi-b1'
    const a = await start(dev)
    await send(dev, serializeMessage('desired', signed('desired', { ...desired(5, []), deviceId: dev })))
    await waitFor(() => a.store.received()?.version === 5, 10_000, 'v5')
    // Forged (signature of other content) and older or equal: a full check would refuse each as LOA_SIG_INVALID.
    const forged = (version: number) => {
      const msg = signed('desired', { ...desired(version, []), deviceId: dev, volume: 7 })
      return serializeMessage('desired', { ...msg, body: { ...msg.body, volume: 99 } })
    }
    for (let i = 0; i < 200; i++) await send(dev, forged(1 + (i % 5)))
    await waitFor(() => a.desiredGate.dropped === 200, 15_000, '200 stale states dropped')
    // A newer forged one still goes through every check, and is refused for its signature.
    await send(dev, forged(6))
    await waitFor(
      () => rejections(dev).some((r) => r.code === 'LOA_SIG_INVALID'),
      10_000,
      'newer one checked',
    )
    expect(rejections(dev).filter((r) => r.code === 'LOA_SIG_INVALID')).toHaveLength(1)
    expect(a.store.received()?.version).toBe(5)
    // One summary event, not one per state.
    const summaries = ups.filter(
      (u) => u.topic === tree.device(dev, 'event') && u.body.kind === 'desired-stale',
    )
    expect(summaries.length).toBeGreaterThanOrEqual(1)
    expect(summaries.length).toBeLessThanOrEqual(2)
  })

  it('reports a state too large although a flood of another refusal came first', async () => {
    const dev = 'pi-b2'
    const a = await start(dev)
    for (let i = 0; i < 150; i++) await send(dev, `{"junk":${i}`, 'cmd')
    const tooLarge = Buffer.alloc(CHANNEL_MESSAGES.desired.maxBytes + 1, 0x20)
    await send(dev, tooLarge)
    await waitFor(
      () => rejections(dev).some((r) => r.code === 'LOA_MSG_TOO_LARGE'),
      15_000,
      'too large reported',
    )
    // The flood itself is capped per code: a handful reported, not 150.
    const junk = rejections(dev).filter((r) => r.code === 'LOA_MSG_NOT_JSON')
    expect(junk.length).toBeGreaterThan(0)
    expect(junk.length).toBeLessThanOrEqual(10)
    expect(a.store.received()).toBeNull()
  })

  it('keeps its heap where the largest state put it through a burst of 1,000 superseded ones', async () => {
    const dev = 'pi-b3'
    const a = await start(dev)
    const held = largest(dev, 1001, media)
    const heldPayload = serializeMessage('desired', signed('desired', held))
    expect(heldPayload.length).toBeGreaterThan(DESIRED_LIMITS.maxBytes * 0.9)
    await send(dev, heldPayload)
    await waitFor(() => a.store.applied()?.version === 1001, 60_000, 'largest state applied')
    await new Promise((r) => setTimeout(r, 500))
    gc()
    const baseline = process.memoryUsage().heapUsed
    // Superseded: what a box got when every intermediate version was published, or a replay of them.
    const stale = serializeMessage('desired', signed('desired', { ...held, version: 1000 }))
    // The heap while they arrive: none is parsed, so it hardly moves (parsing each: ~6× the baseline at peak).
    let peak = baseline
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed)
    }, 5)
    try {
      for (let i = 0; i < 1000; i++) await send(dev, stale)
      await waitFor(() => a.desiredGate.dropped === 1000, 60_000, '1000 superseded states dropped')
    } finally {
      clearInterval(sampler)
    }
    await send(dev, serializeMessage('desired', signed('desired', { ...held, version: 1002, volume: 90 })))
    await waitFor(() => a.store.received()?.version === 1002, 60_000, 'newest state received')
    await a.reconciler.idle()
    gc()
    const after = process.memoryUsage().heapUsed
    expect(peak / baseline).toBeLessThan(2)
    expect(after / baseline).toBeLessThan(1.3)
  }, 240_000)
})
