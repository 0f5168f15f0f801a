import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import type { Ingest } from '../uplink/ingest.js'

/**
 * Tells watchers (SSE streams) which alert or live relay an ingest batch touched: maps ack ids to ids and emits the
 * id after every batch that acknowledged it. The counts themselves are aggregated by the batch's own transaction.
 */
export class AckWatch {
  private readonly byAck = new Map<string, string>()
  private readonly changes = new EventEmitter()

  constructor(ingest: Ingest) {
    // Every SSE stream listens here: no warning for many viewers of one thing.
    this.changes.setMaxListeners(0)
    ingest.onAcks((ackIds) => {
      const touched = new Set<string>()
      for (const a of ackIds) {
        const id = this.byAck.get(a)
        if (id) touched.add(id)
      }
      for (const id of touched) this.changes.emit(id)
    })
  }

  track(ackId: string, id: string): void {
    this.byAck.set(ackId, id)
  }

  /** Calls `fn` whenever the counts or state of `id` may have changed; returns the unsubscribe function. */
  watch(id: string, fn: () => void): () => void {
    this.changes.on(id, fn)
    return () => this.changes.off(id, fn)
  }

  changed(id: string): void {
    this.changes.emit(id)
  }

  close(): void {
    this.changes.removeAllListeners()
  }
}

const MAX_TIMER_MS = 60 * 60_000

/**
 * One timer for the earliest deadline (alert expiry, end of a live relay): `next` gives the earliest instant (ms) or
 * null, `sweep` handles everything due and is followed by re-arming. Re-checked at least hourly.
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor(
    private readonly next: () => Promise<number | null>,
    private readonly sweep: () => Promise<void>,
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  /** Sweeps what is due now, then arms the timer for the next deadline. */
  async run(): Promise<void> {
    if (this.closed) return
    await this.sweep()
    await this.arm()
  }

  rearm(): void {
    this.arm().catch((err) => this.log.error({ err }, `${this.what} timer failed`))
  }

  private async arm(): Promise<void> {
    if (this.closed) return
    const next = await this.next()
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (next === null) return
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - Date.now()) + 5)
    this.timer = setTimeout(() => {
      this.run().catch((err) => this.log.error({ err }, `${this.what} sweep failed`))
    }, delay)
    this.timer.unref()
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
  }
}
