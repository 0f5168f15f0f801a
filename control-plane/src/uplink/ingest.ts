import { randomUUID } from 'node:crypto'
import {
  DEVICE_UP_CHANNELS,
  type DeviceEventBody,
  type DeviceUpChannel,
  decodeMessage,
  encodeMessage,
  ProtocolError,
  serializeMessage,
  type TopicTree,
} from '@loa/shared'
import type { Logger } from 'pino'
import type { DesiredService } from '../desired/service.js'
import type { MqttLink } from '../mqtt/link.js'
import type { Repositories } from '../repositories.js'
import type { Metrics } from '../server/metrics.js'
import { repairMessage } from './ingest-repair.js'
import type { IngestRecord } from './model.js'

export interface IngestOptions {
  repos: Repositories
  mqtt: MqttLink
  topics: TopicTree
  metrics: Metrics
  desired: DesiredService
  log: Logger
  heartbeatTimeoutS: number
  flushMs?: number
  maxBatch?: number
}

type Queued =
  | { kind: 'record'; record: IngestRecord }
  | { kind: 'presence'; clusterId: string; online: boolean; at: string }
  /** A rejected message whose content is kept in an event: receipt its id so the device stops re-sending it. */
  | { kind: 'receipt'; clusterId: string; id: string }

const MESSAGE_ID_RE = /^[A-Za-z0-9_-]{8,64}$/

/** The envelope id of a rejected payload from `deviceId`, when it has a usable one. */
function rejectedMessageId(payload: Buffer, deviceId: string): string | null {
  try {
    const data = JSON.parse(payload.toString('utf8')) as { id?: unknown; from?: unknown }
    return typeof data.id === 'string' && MESSAGE_ID_RE.test(data.id) && data.from === deviceId
      ? data.id
      : null
  } catch {
    return null
  }
}

const RECEIPT_CHUNK = 1000
const APPLIED_BEHIND_GAP_MS = 30_000

/**
 * Upward traffic: decode and check each message, queue it, and store the queue in one transaction every ~100 ms or
 * 500 messages. Receipts go out only after the commit, so a device drops an outbox entry only once it is durable.
 * Storage is idempotent by envelope id: a re-sent message is stored once but receipted again.
 */
export class Ingest {
  private queue: Queued[] = []
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()
  private heartbeat: NodeJS.Timeout | null = null
  private known = new Set<string>()
  private readonly ackListeners = new Set<(commandIds: Set<string>) => void>()
  private closed = false
  private readonly flushMs: number
  private readonly maxBatch: number

  constructor(private readonly o: IngestOptions) {
    this.flushMs = o.flushMs ?? 100
    this.maxBatch = o.maxBatch ?? 500
  }

  static subscriptions(topics: TopicTree): string[] {
    return DEVICE_UP_CHANNELS.map((c) => topics.allDevices(c))
  }

  async start(): Promise<void> {
    this.known = new Set((await this.o.repos.clusters.listInputs()).map((c) => c.id))
    this.o.mqtt.on('message', (topic, payload) => this.onMessage(topic, payload))
    const every = Math.min(10_000, Math.max(200, this.o.heartbeatTimeoutS * 250))
    this.heartbeat = setInterval(() => void this.checkHeartbeats(), every)
    this.heartbeat.unref()
  }

  /** Called after each stored batch with the command ids it acknowledged (e.g. alerts aggregate their acks). */
  onAcks(listener: (commandIds: Set<string>) => void): void {
    this.ackListeners.add(listener)
  }

  /** Called when a cluster is registered, so its messages are no longer "unknown device". */
  addKnown(clusterId: string): void {
    this.known.add(clusterId)
  }

  /** Records an event the control plane observed about a known cluster (e.g. a broker refusal); false if unknown. */
  recordEvent(clusterId: string, body: Omit<DeviceEventBody, 'at'>): boolean {
    if (this.closed || !this.known.has(clusterId)) return false
    this.enqueueEvent(clusterId, new Date().toISOString(), body)
    return true
  }

  /** A control-plane event about a cluster, stored with the next batch. */
  private enqueueEvent(clusterId: string, at: string, body: Omit<DeviceEventBody, 'at'>): void {
    this.enqueue({
      kind: 'record',
      record: { channel: 'cp-event', id: randomUUID(), clusterId, receivedAt: at, body: { at, ...body } },
    })
  }

  private onMessage(topic: string, payload: Buffer): void {
    // After close nothing more can be stored; un-receipted messages are re-sent by the devices.
    if (this.closed) return
    try {
      this.handle(topic, payload)
    } catch (err) {
      // Never let one message take the process down.
      this.o.log.error({ err, topic }, 'ingest: unexpected error')
    }
  }

  private handle(topic: string, payload: Buffer): void {
    const parsed = this.o.topics.parse(topic)
    if (parsed?.kind !== 'device') return
    const channel = parsed.channel as DeviceUpChannel
    if (!(DEVICE_UP_CHANNELS as readonly string[]).includes(channel)) return
    const deviceId = parsed.deviceId
    const known = this.known.has(deviceId)
    const receivedAt = new Date().toISOString()
    let msg: ReturnType<typeof decodeMessage<DeviceUpChannel>>
    try {
      msg = decodeMessage(channel, payload)
      if (msg.from !== deviceId) {
        throw new ProtocolError('LOA_MSG_SENDER', [`from "${msg.from}" on the topic of "${deviceId}"`])
      }
    } catch (err) {
      const code = err instanceof ProtocolError ? err.code : 'LOA_MSG_INVALID'
      if (known && code === 'LOA_MSG_INVALID' && this.storeRepaired(deviceId, channel, payload, receivedAt))
        return
      this.o.metrics.rejected.inc({ code, channel })
      this.o.log.warn(
        { code, deviceId, channel, err: (err as Error).message.slice(0, 500) },
        'rejected message',
      )
      const rejectedId = known ? rejectedMessageId(payload, deviceId) : null
      if (known) {
        this.enqueueEvent(deviceId, receivedAt, {
          kind: 'message-rejected',
          severity: 'warning',
          message: `${code} on ${channel}: ${(err as Error).message}`.slice(0, 2000),
          // Keep what was refused (bounded) so nothing a device said is silently lost.
          data: {
            code,
            channel,
            messageId: rejectedId,
            excerpt: payload.subarray(0, 1000).toString('utf8'),
          },
        })
        // A poison message would otherwise come back from the device's outbox forever.
        if (rejectedId) this.enqueue({ kind: 'receipt', clusterId: deviceId, id: rejectedId })
      }
      return
    }
    if (!known) {
      this.o.metrics.unknownDevice.inc({ channel })
      this.o.log.info({ deviceId, channel }, 'message from unknown device ignored')
      return
    }
    this.o.metrics.messages.inc({ channel })
    if (msg.type === 'presence') {
      this.enqueue({ kind: 'presence', clusterId: deviceId, online: msg.body.online, at: receivedAt })
      return
    }
    const base = { id: msg.id, clusterId: deviceId, receivedAt }
    // The codec has checked the body against this channel's schema; the cast only re-joins channel and body types.
    this.enqueue({ kind: 'record', record: { ...base, channel, body: msg.body } as IngestRecord })
  }

  /**
   * A play or heartbeat that fails its schema in a field that can be mended (uplink/ingest-repair.ts) is stored mended,
   * with a `message-repaired` event naming the fields and their values as sent, and receipted like any other.
   */
  private storeRepaired(
    deviceId: string,
    channel: DeviceUpChannel,
    payload: Buffer,
    receivedAt: string,
  ): boolean {
    const r = repairMessage(channel, payload)
    if (!r || r.message.from !== deviceId) return false
    this.o.metrics.messages.inc({ channel })
    const { message, repairs } = r
    const fields = repairs.map((x) => x.field).join(', ')
    this.o.log.warn({ deviceId, channel, messageId: message.id, repairs }, 'message stored repaired')
    this.enqueue({
      kind: 'record',
      // Checked against the channel's schema by decodeMessage after mending; the cast re-joins channel and body.
      record: {
        id: message.id,
        clusterId: deviceId,
        receivedAt,
        channel,
        body: message.body,
      } as IngestRecord,
    })
    this.enqueueEvent(deviceId, receivedAt, {
      kind: 'message-repaired',
      severity: 'warning',
      message: `${channel} ${message.id} stored with ${fields} mended`.slice(0, 2000),
      data: { channel, messageId: message.id, repairs: repairs.slice(0, 20) },
    })
    return true
  }

  private enqueue(q: Queued): void {
    this.queue.push(q)
    if (this.queue.length >= this.maxBatch) this.flushSoon(0)
    else this.flushSoon(this.flushMs)
  }

  private flushSoon(ms: number): void {
    if (this.timer && ms > 0) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = null
      void this.flush()
    }, ms)
  }

  /** Stores everything queued so far (and sends its receipts). */
  flush(): Promise<void> {
    this.flushing = this.flushing
      .then(() => this.flushOnce())
      .catch((err) => {
        this.o.log.error({ err }, 'ingest flush failed')
      })
    return this.flushing
  }

  private async flushOnce(): Promise<void> {
    if (this.queue.length === 0) return
    const batch = this.queue
    this.queue = []
    // Presence changes are applied in arrival order with the records around them, so a last will that follows a
    // heartbeat leaves the device offline.
    const records: IngestRecord[] = []
    const presence: { clusterId: string; online: boolean; at: string }[] = []
    const rejected: { clusterId: string; id: string }[] = []
    for (const q of batch) {
      if (q.kind === 'record') records.push(q.record)
      else if (q.kind === 'receipt') rejected.push(q)
      else presence.push(q)
    }
    await this.o.repos.ingest.writeBatch(records)
    for (const p of presence) await this.o.repos.clusters.setOnline(p.clusterId, p.online, p.at)
    this.o.metrics.ingestBatches.inc()
    const acked = new Set(records.flatMap((r) => (r.channel === 'ack' ? [r.body.commandId] : [])))
    if (acked.size > 0) {
      for (const l of this.ackListeners) {
        try {
          l(acked)
        } catch (err) {
          this.o.log.error({ err }, 'ack listener failed')
        }
      }
    }

    const receipts = new Map<string, string[]>()
    const behind: string[] = []
    for (const r of records) {
      if (r.channel === 'cp-event') continue
      const ids = receipts.get(r.clusterId)
      if (ids) ids.push(r.id)
      else receipts.set(r.clusterId, [r.id])
      if (r.channel === 'reported') behind.push(r.clusterId)
    }
    for (const r of rejected) {
      const ids = receipts.get(r.clusterId)
      if (ids) ids.push(r.id)
      else receipts.set(r.clusterId, [r.id])
    }
    for (const [clusterId, ids] of receipts) {
      for (let i = 0; i < ids.length; i += RECEIPT_CHUNK) {
        await this.sendReceipt(clusterId, [...new Set(ids.slice(i, i + RECEIPT_CHUNK))])
      }
    }
    for (const p of presence) if (p.online) void this.o.desired.republish(p.clusterId)
    for (const r of records) {
      if (r.channel !== 'reported') continue
      const current = await this.o.desired.currentVersion(r.clusterId)
      const { receivedVersion, desiredVersion } = r.body
      if (current === null) continue
      if ((receivedVersion ?? 0) < current) {
        // The device missed the current version.
        void this.o.desired.republish(r.clusterId, { minGapMs: this.o.desired.missedGapMs })
      } else if ((desiredVersion ?? 0) < current) {
        // Received but not applied yet: usually still downloading, so only a slow reminder.
        void this.o.desired.republish(r.clusterId, { minGapMs: APPLIED_BEHIND_GAP_MS })
      }
    }
  }

  private async sendReceipt(clusterId: string, ids: string[]): Promise<void> {
    const msg = encodeMessage('receipt', 'control-plane', { ids })
    try {
      await this.o.mqtt.publish(this.o.topics.device(clusterId, 'receipt'), serializeMessage('receipt', msg))
    } catch (err) {
      // The device re-sends un-receipted entries and we receipt them again then.
      this.o.log.warn({ clusterId, err: (err as Error).message }, 'receipt publish failed')
    }
  }

  private async checkHeartbeats(): Promise<void> {
    try {
      const before = new Date(Date.now() - this.o.heartbeatTimeoutS * 1000).toISOString()
      const gone = await this.o.repos.clusters.markStaleOffline(before)
      if (gone.length === 0) return
      this.o.log.info({ count: gone.length, clusterIds: gone.slice(0, 20) }, 'heartbeat timeout')
      const at = new Date().toISOString()
      for (const clusterId of gone) {
        this.enqueue({
          kind: 'record',
          record: {
            channel: 'cp-event',
            id: randomUUID(),
            clusterId,
            receivedAt: at,
            body: {
              at,
              kind: 'heartbeat-timeout',
              severity: 'warning',
              message: `nothing heard for ${this.o.heartbeatTimeoutS} s: marked offline`,
            },
          },
        })
      }
    } catch (err) {
      this.o.log.error({ err }, 'heartbeat check failed')
    }
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.heartbeat) clearInterval(this.heartbeat)
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.flush()
  }
}
