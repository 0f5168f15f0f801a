import { randomUUID } from 'node:crypto'
import type { BodyFor, DeviceEventBody, EventSeverity } from '@loa/shared'
import type { Db } from '../storage/db.js'
import { isDiskFull } from '../storage/guard.js'

/** Upward channels that must not be lost: they all go through the outbox. Presence is state, not a log. */
export type OutboxChannel = 'ack' | 'reported' | 'telemetry' | 'event' | 'play'

export interface OutboxEntry<C extends OutboxChannel = OutboxChannel> {
  seq: number
  id: string
  channel: C
  body: BodyFor<C>
}

export interface OutboxOptions {
  /** Older telemetry is dropped beyond this; nothing else is ever dropped (except superseded reported states). */
  maxPendingTelemetry?: number
  /** An entry published but not receipted after this long is published again. */
  resendAfterMs?: number
  /** Cap on entries published and not yet receipted, so a reconnect does not flood a 4G link. */
  maxInFlight?: number
  /** The `at` of events (the agent's clock, clock/clock.ts); default the wall clock. */
  now?: () => number
}

const STUCK_ATTEMPTS = 5

interface Row {
  seq: number
  id: string
  channel: OutboxChannel
  body: string
}

/**
 * Every upward message is written here first, in the same transaction as the state change that caused it, and
 * published with the row's id as envelope id. It leaves only when the control plane receipts that id.
 */
export class Outbox {
  readonly maxPendingTelemetry: number
  readonly resendAfterMs: number
  readonly maxInFlight: number
  private listener: (() => void) | null = null
  private notifyQueued = false
  private readonly now: () => number
  /** The last batch taken could not be marked sent (disk full): stop taking more until the next flush. */
  private unmarked = false

  constructor(
    private readonly db: Db,
    opts: OutboxOptions = {},
  ) {
    this.now = opts.now ?? Date.now
    this.maxPendingTelemetry = opts.maxPendingTelemetry ?? 2000
    this.resendAfterMs = opts.resendAfterMs ?? 30_000
    this.maxInFlight = opts.maxInFlight ?? 50
  }

  /** Called (once per batch, after the current synchronous transaction commits) when something was enqueued. */
  onEnqueue(listener: () => void): void {
    this.listener = listener
  }

  /** Adds an entry; may run inside a caller's db.transaction. Returns the envelope id it will carry. */
  enqueue<C extends OutboxChannel>(channel: C, body: BodyFor<C>, now = new Date()): string {
    const id = randomUUID()
    if (channel === 'reported') {
      // Only the newest reported state matters: it is a full snapshot.
      this.db.prepare("DELETE FROM outbox WHERE channel = 'reported'").run()
    }
    this.db
      .prepare('INSERT INTO outbox (id, channel, body, created_at) VALUES (?, ?, ?, ?)')
      .run(id, channel, JSON.stringify(body), now.toISOString())
    if (channel === 'telemetry') {
      this.db
        .prepare(
          `DELETE FROM outbox WHERE channel = 'telemetry' AND seq NOT IN
           (SELECT seq FROM outbox WHERE channel = 'telemetry' ORDER BY seq DESC LIMIT ?)`,
        )
        .run(this.maxPendingTelemetry)
    }
    this.scheduleNotify()
    return id
  }

  event(kind: string, severity: EventSeverity, message: string, data?: Record<string, unknown>): string {
    const body: DeviceEventBody = {
      at: new Date(this.now()).toISOString(),
      kind,
      severity,
      message: message.slice(0, 2000),
    }
    if (data) body.data = data
    return this.enqueue('event', body)
  }

  private scheduleNotify(): void {
    if (this.notifyQueued || !this.listener) return
    this.notifyQueued = true
    // setImmediate runs after the synchronous better-sqlite3 transaction has committed.
    setImmediate(() => {
      this.notifyQueued = false
      this.listener?.()
    })
  }

  /** Entries to publish now (never sent, or sent and not receipted for resendAfterMs), within the in-flight cap. */
  takeDue(now = new Date()): OutboxEntry[] {
    const staleBefore = new Date(now.getTime() - this.resendAfterMs).toISOString()
    const inFlight = (
      this.db
        // Entries sent many times without a receipt stop counting, so one the control plane never receipts
        // cannot stall everything behind it (they are still re-sent).
        .prepare(
          'SELECT count(*) AS n FROM outbox WHERE sent_at IS NOT NULL AND sent_at > ? AND attempts < ?',
        )
        .get(staleBefore, STUCK_ATTEMPTS) as { n: number }
    ).n
    const room = this.maxInFlight - inFlight
    if (room <= 0) return []
    const rows = this.db
      .prepare(
        'SELECT seq, id, channel, body FROM outbox WHERE sent_at IS NULL OR sent_at <= ? ORDER BY seq LIMIT ?',
      )
      .all(staleBefore, room) as Row[]
    const mark = this.db.prepare('UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE seq = ?')
    try {
      this.db.transaction(() => {
        for (const r of rows) mark.run(now.toISOString(), r.seq)
      })()
      this.unmarked = false
    } catch (err) {
      // A full disk must not keep what is stored from going out: unmarked, they are only sent again sooner (the
      // control plane de-duplicates by id), and the receipts that come back make room.
      if (!isDiskFull(err)) throw err
      this.unmarked = true
    }
    return rows.map((r) => ({ seq: r.seq, id: r.id, channel: r.channel, body: JSON.parse(r.body) }))
  }

  /** After a reconnect nothing is known to be in flight: everything pending is sent again. */
  resetInFlight(): void {
    this.db.prepare('UPDATE outbox SET sent_at = NULL').run()
  }

  /** The control plane stored these ids: drop them. Returns how many were ours. */
  receipt(ids: readonly string[]): number {
    const del = this.db.prepare('DELETE FROM outbox WHERE id = ?')
    let n = 0
    this.db.transaction(() => {
      for (const id of ids) n += del.run(id).changes
    })()
    return n
  }

  pendingCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n
  }

  /** Whether any entry is due to be published (used to keep flushing while there is room). */
  hasUnsent(): boolean {
    if (this.unmarked) return false
    return this.db.prepare('SELECT 1 FROM outbox WHERE sent_at IS NULL LIMIT 1').get() !== undefined
  }
}
