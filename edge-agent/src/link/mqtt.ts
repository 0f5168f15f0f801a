import { encodeMessage, serializeMessage, type TopicTree } from '@loa/shared'
import { type IClientOptions, MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { monotonicMs } from '../clock/clock.js'
import { type Broker, BrokerRotation, fullJitterMs } from './brokers.js'
import type { Outbox, OutboxEntry } from './outbox.js'
import { openBrokerStream } from './stream.js'

export interface LinkOptions {
  /** One broker, or several: the link moves round-robin to the next when one fails (docs/edge-agent.md). */
  url: string | readonly string[]
  username?: string
  password?: string
  /** For mqtts://: the CA to trust, and a client certificate (CN = device id) and key. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer }
  deviceId: string
  tree: TopicTree
  outbox: Outbox
  log: Logger
  onMessage: (topic: string, payload: Buffer) => void
  /** After each (re)connection, before the outbox is flushed. */
  onConnect: () => void
  /** How often the outbox is checked for entries to re-send. */
  flushIntervalMs?: number
  /** A connection up this long resets the backoff (a broker that accepts and drops at once is backed off). */
  stableAfterMs?: number
}

const STABLE_AFTER_MS = 30_000

const BACKOFF_MIN_MS = 1_000
const BACKOFF_MAX_MS = 60_000

/**
 * Exponential backoff (×1.5 per attempt, 1 s → 60 s) with jitter (50–100 % of the step) so a commune's clusters
 * do not reconnect in lockstep. ×1.5 rather than ×2 so that a device finds a broker back from a short restart
 * within seconds, not a minute.
 */
export function backoffMs(attempt: number): number {
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 1.5 ** attempt)
  return Math.round(step * (0.5 + Math.random() * 0.5))
}

/**
 * The MQTT connection: presence (retained, with a last will), subscriptions to this device's down channels and
 * its units' command topics, and publishing the outbox. Nothing here holds messages in memory: the outbox is the
 * queue, and mqtt.js is told not to queue QoS 0.
 */
export class MqttLink {
  private client: MqttClient | null = null
  private units = new Set<string>()
  private attempt = 0
  private flushTimer: NodeJS.Timeout | null = null
  private flushing = false
  private readonly rotation: BrokerRotation
  /** The broker of the current (or last) connection attempt. */
  private current: Broker | null = null
  private stableTimer: NodeJS.Timeout | null = null
  /** When the broker last sent anything (PINGRESP at least every keepalive), monotonic ms: the watchdog's view. */
  lastPacketAt = monotonicMs()

  constructor(private readonly o: LinkOptions) {
    this.rotation = new BrokerRotation(typeof o.url === 'string' ? [o.url] : o.url, o.deviceId)
  }

  get connected(): boolean {
    return this.client?.connected ?? false
  }

  /** The broker connected to (`mqtt://host:port`, no credentials), or null while offline. */
  get broker(): string | null {
    return this.connected ? (this.current?.display ?? null) : null
  }

  /** One broker keeps its tested backoff; with several, full jitter (link/brokers.ts says why). */
  private delayMs(attempt: number): number {
    return this.rotation.brokers.length > 1 ? fullJitterMs(attempt) : backoffMs(attempt)
  }

  private presence(online: boolean): Buffer {
    return serializeMessage('presence', encodeMessage('presence', this.o.deviceId, { online }))
  }

  start(): void {
    const { tree, deviceId, log } = this.o
    const options: IClientOptions = {
      clientId: `loa-agent-${deviceId}`,
      username: this.o.username,
      password: this.o.password,
      clean: true,
      queueQoSZero: false,
      resubscribe: false,
      reconnectPeriod: this.delayMs(0),
      connectTimeout: 15_000,
      keepalive: 30,
      will: { topic: tree.device(deviceId, 'presence'), payload: this.presence(false), qos: 1, retain: true },
    }
    // One client (one client id, one clean session per connection) over every broker: mqtt.js calls the stream
    // builder for each attempt, and it dials the next broker of the rotation.
    const client = new MqttClient((c) => {
      const b = this.rotation.next()
      this.current = b
      // The URL's credentials, when it has some, are that broker's (as mqtt.connect(url) did).
      c.options.username = b.username ?? this.o.username
      c.options.password = b.password ?? this.o.password
      log.debug({ broker: b.display }, 'mqtt dialling')
      return openBrokerStream(b, this.o.tls)
    }, options)
    this.client = client
    // mqtt.js reads reconnectPeriod when it schedules the next attempt: adjust it on each step.
    client.on('offline', () => {
      client.options.reconnectPeriod = this.delayMs(this.attempt)
      log.warn({ retryInMs: client.options.reconnectPeriod }, 'mqtt offline')
    })
    client.on('reconnect', () => {
      this.attempt++
      client.options.reconnectPeriod = this.delayMs(this.attempt)
    })
    client.on('close', () => {
      if (this.stableTimer) clearTimeout(this.stableTimer)
      this.stableTimer = null
    })
    client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'))
    client.on('packetreceive', () => {
      this.lastPacketAt = monotonicMs()
    })
    client.on('connect', () => {
      // Reset only once the connection has lasted: a broker that accepts and drops at once keeps backing off.
      if (this.stableTimer) clearTimeout(this.stableTimer)
      this.stableTimer = setTimeout(() => {
        this.attempt = 0
      }, this.o.stableAfterMs ?? STABLE_AFTER_MS)
      this.stableTimer.unref()
      log.info({ url: this.current?.display }, 'mqtt connected')
      client.publish(tree.device(deviceId, 'presence'), this.presence(true), { qos: 1, retain: true })
      const topics = [
        tree.device(deviceId, 'desired'),
        tree.device(deviceId, 'cmd'),
        tree.device(deviceId, 'receipt'),
        ...[...this.units].map((u) => tree.unitCommands(u)),
      ]
      client.subscribe(topics, { qos: 1 }, (err) => {
        if (err) log.warn({ err: err.message }, 'subscribe failed')
      })
      // Nothing is known to be in flight on a new connection: send everything pending again.
      this.o.outbox.resetInFlight()
      this.o.onConnect()
      this.flush()
    })
    client.on('message', (topic, payload) => {
      try {
        this.o.onMessage(topic, payload)
      } catch (err) {
        log.error({ err, topic }, 'message handler failed')
      }
    })
    this.o.outbox.onEnqueue(() => this.flush())
    this.flushTimer = setInterval(() => this.flush(), this.o.flushIntervalMs ?? 5_000)
  }

  /** Follows `desired.units`: subscribes to new units' command topics, unsubscribes from dropped ones. */
  setUnits(units: readonly string[]): void {
    const next = new Set(units)
    const added = [...next].filter((u) => !this.units.has(u))
    const removed = [...this.units].filter((u) => !next.has(u))
    this.units = next
    if (!this.client?.connected) return
    if (added.length > 0)
      this.client.subscribe(
        added.map((u) => this.o.tree.unitCommands(u)),
        { qos: 1 },
      )
    if (removed.length > 0) this.client.unsubscribe(removed.map((u) => this.o.tree.unitCommands(u)))
  }

  /** Publishes due outbox entries (within the in-flight cap), with the row id as envelope id. */
  flush(): void {
    const client = this.client
    if (!client?.connected || this.flushing) return
    this.flushing = true
    try {
      let batch: OutboxEntry[]
      do {
        batch = this.o.outbox.takeDue()
        for (const e of batch) this.publishEntry(client, e)
      } while (batch.length > 0 && client.connected && this.o.outbox.hasUnsent())
    } finally {
      this.flushing = false
    }
  }

  private publishEntry(client: MqttClient, e: OutboxEntry): void {
    let payload: Buffer
    try {
      payload = serializeMessage(
        e.channel,
        encodeMessage(e.channel, this.o.deviceId, e.body as never, { id: e.id }),
      )
    } catch (err) {
      // Too large to ever send: keeping it would block nothing, but it would be re-sent forever.
      this.o.log.error({ err, id: e.id, channel: e.channel }, 'outbox entry cannot be sent: dropped')
      this.o.outbox.receipt([e.id])
      return
    }
    client.publish(this.o.tree.device(this.o.deviceId, e.channel), payload, { qos: 1 }, (err) => {
      if (err) this.o.log.warn({ err: err.message, id: e.id }, 'publish failed: will be re-sent')
    })
  }

  /** Says goodbye (presence offline, retained) and closes. */
  async stop(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer)
    if (this.stableTimer) clearTimeout(this.stableTimer)
    const client = this.client
    if (!client) return
    if (client.connected) {
      await new Promise<void>((resolve) => {
        client.publish(
          this.o.tree.device(this.o.deviceId, 'presence'),
          this.presence(false),
          { qos: 1, retain: true },
          () => resolve(),
        )
        setTimeout(resolve, 2000).unref()
      })
    }
    await client.endAsync(false).catch(() => {})
  }
}
