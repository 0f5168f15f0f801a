import { encodeMessage, serializeMessage, type TopicTree } from '@loa/shared'
import type { Logger } from 'pino'
import type { MqttLink } from '../mqtt/link.js'
import type { Metrics } from '../server/metrics.js'
import type { DesiredStateRecord } from './model.js'

export interface DesiredPublisherOptions {
  mqtt: MqttLink
  topics: TopicTree
  metrics: Metrics
  log: Logger
  /** The device's current state, read when it is sent (so the newest version is the one that goes). */
  load: (clusterId: string) => Promise<DesiredStateRecord | null>
  sign?: <M extends Record<string, unknown>>(msg: M) => M
  /**
   * A device sent nothing for `maxDelayMs` gets its next state at once. Otherwise its next state waits until no
   * recomputation has run for `quietMs` (it would be superseded)…
   */
  quietMs?: number
  /** …but never longer than this after its first pending change, however long a burst lasts. */
  maxDelayMs?: number
  /** QoS 1 publishes awaiting the broker's acknowledgement at once, by count and by bytes. */
  windowCount?: number
  windowBytes?: number
  now?: () => number
}

interface Pending {
  /** When the first change not yet sent was queued, and the latest. */
  firstAt: number
  lastAt: number
  /** Sent at once (the device has been quiet). */
  leading: boolean
}

/**
 * The desired-state publish queue. It holds at most one entry per device, and only its id: whatever version is
 * newest when its turn comes is read from the database and sent, so versions superseded while waiting are never
 * published. A device's first change goes out at once; during a burst its next state waits until recomputation
 * has been idle for `quietMs` (at most `maxDelayMs`), so a burst of changes costs each box a download every
 * `maxDelayMs` at most, plus the last. In flight at once: at most `windowCount` publishes, about `windowBytes`.
 */
export class DesiredPublisher {
  private readonly pending = new Map<string, Pending>()
  /** When each device was last sent a state, kept for `maxDelayMs` (pruned): bounded by the number of devices. */
  private readonly lastSent = new Map<string, number>()
  private recomputing = false
  private idleSince = Number.NEGATIVE_INFINITY
  private timer: NodeJS.Timeout | null = null
  private timerAt = Number.POSITIVE_INFINITY
  private pumping: Promise<void> | null = null
  private inFlight = 0
  private inFlightBytes = 0
  private readonly roomWaiters: (() => void)[] = []
  private closed = false
  private readonly quietMs: number
  private readonly maxDelayMs: number
  private readonly windowCount: number
  private readonly windowBytes: number
  private readonly now: () => number

  constructor(private readonly o: DesiredPublisherOptions) {
    this.quietMs = o.quietMs ?? 1000
    this.maxDelayMs = o.maxDelayMs ?? 30_000
    this.windowCount = o.windowCount ?? 200
    this.windowBytes = o.windowBytes ?? 8 * 1024 * 1024
    this.now = o.now ?? Date.now
  }

  /** Devices waiting for a publish (at most one entry each). */
  get size(): number {
    return this.pending.size
  }

  /** Queues a device's current state (newest wins); `now`: skip the quiet period (e.g. a broker reconnect). */
  enqueue(clusterId: string, opts: { now?: boolean } = {}): void {
    if (this.closed) return
    const t = this.now()
    const p = this.pending.get(clusterId)
    if (p) {
      // A version waiting is superseded by this one: only the newest is sent.
      this.o.metrics.desiredSuperseded.inc()
      p.lastAt = t
      if (opts.now) p.leading = true
    } else {
      // The first change after a quiet spell goes at once; one within a burst waits for the burst to pass.
      const sent = this.lastSent.get(clusterId)
      const quiet = sent === undefined || t - sent >= this.maxDelayMs
      this.pending.set(clusterId, { firstAt: t, lastAt: t, leading: opts.now === true || quiet })
    }
    this.wakeAt(this.dueAt(this.pending.get(clusterId) as Pending))
  }

  /** When a device's state goes: at once, or when recomputation has been idle for `quietMs`, or at the cap. */
  private dueAt(p: Pending): number {
    if (p.leading) return p.firstAt
    const cap = p.firstAt + this.maxDelayMs
    if (this.recomputing) return cap
    return Math.min(Math.max(p.lastAt, this.idleSince) + this.quietMs, cap)
  }

  /** The desired service says when it starts and stops recomputing. */
  setRecomputing(on: boolean): void {
    if (on === this.recomputing) return
    this.recomputing = on
    if (on) return
    this.idleSince = this.now()
    if (this.pending.size > 0) this.wakeAt(this.idleSince + this.quietMs)
  }

  private wakeAt(at: number): void {
    if (this.closed || at >= this.timerAt) return
    if (this.timer) clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => this.wake(), Math.max(0, at - this.now()))
  }

  private wake(): void {
    this.timer = null
    this.timerAt = Number.POSITIVE_INFINITY
    this.pumping ??= this.pump().finally(() => {
      this.pumping = null
      this.rearm()
    })
  }

  private rearm(): void {
    let next = Number.POSITIVE_INFINITY
    for (const p of this.pending.values()) next = Math.min(next, this.dueAt(p))
    if (next < Number.POSITIVE_INFINITY) this.wakeAt(next)
    const t = this.now()
    for (const [id, at] of this.lastSent) if (t - at >= this.maxDelayMs) this.lastSent.delete(id)
  }

  private async pump(): Promise<void> {
    for (;;) {
      const t = this.now()
      const due = [...this.pending.entries()]
        .filter(([, p]) => this.dueAt(p) <= t)
        .sort((a, b) => this.dueAt(a[1]) - this.dueAt(b[1]))
        .map(([id]) => id)
      if (due.length === 0) return
      for (const id of due) {
        if (!this.pending.delete(id)) continue
        await this.room()
        await this.send(id)
      }
    }
  }

  private async room(): Promise<void> {
    while (this.inFlight >= this.windowCount || this.inFlightBytes >= this.windowBytes) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve))
    }
  }

  /** Loads, signs and hands one device's state to the broker; resolves once it is in flight, not acknowledged. */
  private async send(clusterId: string): Promise<void> {
    const r = await this.o.load(clusterId)
    if (!r) return
    let payload: Buffer
    try {
      const unsigned = encodeMessage('desired', 'control-plane', r.body)
      payload = serializeMessage('desired', this.o.sign ? this.o.sign(unsigned) : unsigned)
    } catch (err) {
      this.o.log.error({ clusterId, err: (err as Error).message }, 'desired state cannot be published')
      return
    }
    this.inFlight++
    this.inFlightBytes += payload.length
    const size = payload.length
    this.lastSent.set(clusterId, this.now())
    // Retained only as an optimisation: correctness comes from re-publishing out of the database.
    this.o.mqtt
      .publish(this.o.topics.device(clusterId, 'desired'), payload, { retain: true })
      .then(
        () => this.o.metrics.desiredPublished.inc(),
        (err: Error) => this.o.log.warn({ clusterId, err: err.message }, 'desired-state publish failed'),
      )
      .finally(() => {
        this.inFlight--
        this.inFlightBytes -= size
        this.roomWaiters.shift()?.()
      })
  }

  /** Resolves once nothing is pending or in flight (tests, close). */
  async drain(): Promise<void> {
    while (this.pumping || this.inFlight > 0 || this.pending.size > 0) {
      if (!this.pumping && this.pending.size > 0) {
        for (const p of this.pending.values()) p.leading = true
        this.wakeAt(this.now())
      }
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  /** Sends what is pending now, waits for the broker, then stops. */
  async close(): Promise<void> {
    await this.drain()
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
  }
}
