import type { AckStage, AlertSpec, MediaRef } from '@loa/shared'
import type { Logger } from 'pino'
import { type Clock, systemClock } from '../clock/clock.js'
import { describeError } from '../errors.js'
import type { Outbox } from '../link/outbox.js'
import type { MediaCache } from '../media/cache.js'
import type { QueuedAlert, QueuedOccurrence } from '../schedule/arbiter.js'
import type { AlertHooks } from '../schedule/scheduler.js'
import type { Db } from '../storage/db.js'

type AlertState = 'active' | 'done' | 'failed' | 'expired' | 'cancelled'

interface AlertRow {
  alert_id: string
  revision: number
  ack_id: string
  spec: string
  state: AlertState
  playing_acked: number
}

export interface AlertManagerOptions {
  db: Db
  outbox: Outbox
  cache: MediaCache
  log: Logger
  /** Fetches one file into the cache now (throws when it cannot). */
  fetch: (m: MediaRef) => Promise<void>
  enqueue: (q: QueuedOccurrence) => void
  withdraw: (alertId: string, reason: string) => void
  /** The device volume, for alerts that name none. */
  volume: () => number
  /** How often expiry is checked. */
  checkMs?: number
  /** Attempts per file before the alert is reported failed. */
  fetchAttempts?: number
  /** Expiry is judged against its lower bound: a clock that may be ahead never expires an alert early. */
  clock?: Clock
}

/**
 * Alerts on the device: de-duplicated by `alertId` + `revision` (a newer revision replaces the alert, at once if it
 * is playing), persisted in table `alerts`, acknowledged under `ackId` through the outbox, played through the
 * scheduler's arbiter at the alert's band. An expired alert never starts and stops if it is playing.
 *
 * "Expired" means past `expiresAt` (or the command's deadline) by a time that has certainly passed (the clock's
 * lower bound): by the local clock when it is trusted, by the signed-time floor when it is not. A box booted with its
 * clock hours ahead therefore still plays a fresh emergency, and one booted days behind plays it at once (its "now"
 * is the floor the alert's own signed `sentAt` raised).
 */
export class AlertManager implements AlertHooks {
  /** Active alerts by id (the revision held). */
  private readonly active = new Map<string, AlertSpec>()
  private timer: NodeJS.Timeout | null = null
  private stopped = false

  private readonly clock: Clock

  constructor(private readonly o: AlertManagerOptions) {
    this.clock = o.clock ?? systemClock
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString()
  }

  private row(alertId: string): AlertRow | undefined {
    return this.o.db.prepare('SELECT * FROM alerts WHERE alert_id = ?').get(alertId) as AlertRow | undefined
  }

  private setState(alertId: string, state: AlertState, reason: string | null = null): void {
    this.o.db
      .prepare('UPDATE alerts SET state = ?, reason = ?, updated_at = ? WHERE alert_id = ?')
      .run(state, reason, this.nowIso(), alertId)
    if (state !== 'active') this.active.delete(alertId)
  }

  private ack(ackId: string, stage: AckStage, reason?: string): void {
    this.o.outbox.enqueue('ack', {
      commandId: ackId,
      stage,
      at: this.nowIso(),
      ...(reason ? { reason: reason.slice(0, 1000) } : {}),
    })
  }

  /** Media every active alert needs (kept by the reconciler's eviction and sweep). */
  media(): Set<string> {
    const out = new Set<string>()
    for (const a of this.active.values()) for (const m of a.items) out.add(m.sha256)
    return out
  }

  durationOf(sha: string): number | undefined {
    for (const a of this.active.values()) {
      const m = a.items.find((i) => i.sha256 === sha)
      if (m) return m.durationMs
    }
    return undefined
  }

  /** Picks up the alerts active before a restart, then checks expiry periodically. */
  start(): void {
    // Finished rows are only needed for de-duplication: after 30 days a replay is long past its expiresAt.
    this.o.db
      .prepare("DELETE FROM alerts WHERE state != 'active' AND updated_at < ?")
      .run(new Date(this.clock.now() - 30 * 86_400_000).toISOString())
    const rows = this.o.db.prepare("SELECT * FROM alerts WHERE state = 'active'").all() as AlertRow[]
    for (const r of rows) {
      const spec = JSON.parse(r.spec) as AlertSpec
      this.active.set(spec.alertId, spec)
      void this.activate(spec)
    }
    this.timer = setInterval(() => this.expire(), this.o.checkMs ?? 500)
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
  }

  /** The active alerts of a desired state (a device connecting late joins them). */
  sync(alerts: readonly AlertSpec[]): void {
    for (const a of alerts) this.receive(a, 'desired')
  }

  /** An alert from a command or the desired state. `deadline` is the command's: past it, nothing is started. */
  receive(spec: AlertSpec, via: string, deadline?: string): 'new' | 'duplicate' {
    const held = this.row(spec.alertId)
    if (held && spec.revision <= held.revision) {
      this.o.log.debug({ alertId: spec.alertId, revision: spec.revision, via }, 'alert already held')
      return 'duplicate'
    }
    const past = this.clock.lowerBound()
    const at = this.nowIso()
    const replacing = held?.state === 'active' ? held : undefined
    const expired =
      Date.parse(spec.expiresAt) <= past || (deadline !== undefined && Date.parse(deadline) < past)
    // CAP Cancel is final: a later revision of a cancelled alert is acknowledged cancelled, never played.
    const cancelled = held?.state === 'cancelled'
    const state: AlertState = cancelled ? 'cancelled' : expired ? 'expired' : spec.audible ? 'active' : 'done'
    this.o.db.transaction(() => {
      this.o.db
        .prepare(
          `INSERT INTO alerts (alert_id, revision, ack_id, spec, state, reason, playing_acked, updated_at)
           VALUES (?, ?, ?, ?, ?, NULL, 0, ?)
           ON CONFLICT (alert_id) DO UPDATE SET revision = excluded.revision, ack_id = excluded.ack_id,
             spec = excluded.spec, state = excluded.state, reason = NULL, playing_acked = 0,
             updated_at = excluded.updated_at`,
        )
        .run(spec.alertId, spec.revision, spec.ackId, JSON.stringify(spec), state, at)
      if (replacing && replacing.ack_id !== spec.ackId) {
        this.ack(replacing.ack_id, 'cancelled', `replaced by revision ${spec.revision}`)
      }
      this.o.outbox.event('alert-received', 'info', `alert ${spec.alertId} r${spec.revision} received`, {
        alertId: spec.alertId,
        revision: spec.revision,
        priority: spec.priority,
        audible: spec.audible,
        via,
      })
      if (cancelled) this.ack(spec.ackId, 'cancelled', 'alert was cancelled')
      else if (expired) {
        this.ack(spec.ackId, 'expired')
        this.o.outbox.event('alert-expired', 'info', `alert ${spec.alertId} arrived expired`, {
          alertId: spec.alertId,
          revision: spec.revision,
          expiresAt: spec.expiresAt,
        })
      } else {
        this.ack(spec.ackId, 'received')
        if (!spec.audible) this.ack(spec.ackId, 'done', 'not audible (test/exercise)')
      }
    })()
    if (replacing) this.o.withdraw(spec.alertId, `replaced by revision ${spec.revision}`)
    if (state === 'active') {
      this.active.set(spec.alertId, spec)
      void this.activate(spec)
    } else this.active.delete(spec.alertId)
    this.o.log.info({ alertId: spec.alertId, revision: spec.revision, state, via }, 'alert received')
    return 'new'
  }

  /** Withdraws an alert: never starts it, stops it if playing. An unknown id is remembered as cancelled. */
  cancel(alertId: string, via: string): void {
    const held = this.row(alertId)
    const at = this.nowIso()
    this.o.db.transaction(() => {
      if (!held) {
        this.o.db
          .prepare(
            `INSERT INTO alerts (alert_id, revision, ack_id, spec, state, updated_at)
             VALUES (?, 0, '', '{}', 'cancelled', ?)`,
          )
          .run(alertId, at)
      } else if (held.state === 'active') {
        this.setState(alertId, 'cancelled', `cancelled via ${via}`)
        this.ack(held.ack_id, 'cancelled')
      }
      this.o.outbox.event('alert-cancelled', 'info', `alert ${alertId} cancelled`, {
        alertId,
        wasActive: held?.state === 'active',
        via,
      })
    })()
    this.active.delete(alertId)
    this.o.withdraw(alertId, 'cancelled')
  }

  private current(a: { alertId: string; revision: number }): AlertRow | undefined {
    const r = this.row(a.alertId)
    return r && r.revision === a.revision && r.state === 'active' ? r : undefined
  }

  /** Fetches what is missing (ahead of the reconciler's queue), then queues the alert at its band. */
  private async activate(spec: AlertSpec): Promise<void> {
    const failures: string[] = []
    for (const m of spec.items) {
      if (this.o.cache.isReady(m.sha256)) continue
      const attempts = this.o.fetchAttempts ?? 3
      for (let i = 1; i <= attempts && !this.stopped; i++) {
        try {
          await this.o.fetch(m)
          break
        } catch (err) {
          const { code, details } = describeError(err)
          this.o.log.warn(
            { alertId: spec.alertId, sha256: m.sha256, code, details },
            'alert media fetch failed',
          )
          if (i === attempts) failures.push(`${m.sha256}: ${code}: ${details.join('; ')}`)
          else await new Promise((r) => setTimeout(r, 500 * i))
        }
      }
    }
    if (this.stopped || !this.current(spec)) return
    if (failures.length > 0) {
      this.o.db.transaction(() => {
        const reason = `media unavailable: ${failures.join(', ')}`
        this.setState(spec.alertId, 'failed', reason)
        this.ack(spec.ackId, 'failed', reason)
        this.o.outbox.event('download-failed', 'warning', `media of alert ${spec.alertId} unavailable`, {
          alertId: spec.alertId,
          code: 'LOA_ALERT_MEDIA',
          details: failures,
        })
      })()
      return
    }
    const items: string[] = []
    for (let i = 0; i < spec.repeat; i++) items.push(...spec.items.map((m) => m.sha256))
    this.o.enqueue({
      key: `alert:${spec.alertId}#${spec.revision}`,
      scheduleId: spec.alertId,
      title: spec.title,
      level: spec.level,
      priority: spec.priority,
      at: spec.startsAt,
      items,
      volume: spec.volume ?? this.o.volume(),
      // Interrupted by a higher emergency: the interrupted item is heard again in full.
      onPreempt: 'restart',
      alert: { alertId: spec.alertId, revision: spec.revision, ackId: spec.ackId, expiresAt: spec.expiresAt },
    })
  }

  private expire(): void {
    const now = this.clock.lowerBound()
    for (const spec of [...this.active.values()]) {
      if (Date.parse(spec.expiresAt) > now || !this.current(spec)) continue
      this.o.db.transaction(() => {
        this.setState(spec.alertId, 'expired', 'expired')
        this.ack(spec.ackId, 'expired')
        this.o.outbox.event('alert-expired', 'info', `alert ${spec.alertId} expired`, {
          alertId: spec.alertId,
          revision: spec.revision,
          expiresAt: spec.expiresAt,
        })
      })()
      this.o.withdraw(spec.alertId, 'expired')
    }
  }

  started(a: QueuedAlert): void {
    const r = this.current(a)
    if (!r || r.playing_acked) return
    this.o.db.transaction(() => {
      this.o.db.prepare('UPDATE alerts SET playing_acked = 1 WHERE alert_id = ?').run(a.alertId)
      this.ack(a.ackId, 'playing')
    })()
  }

  finished(a: QueuedAlert, played: number, failures: string[]): void {
    if (!this.current(a)) return
    this.o.db.transaction(() => {
      if (played > 0) {
        const reason =
          failures.length > 0 ? `${failures.length} item plays failed: ${failures[0]}` : undefined
        this.setState(a.alertId, 'done', reason ?? null)
        this.ack(a.ackId, 'done', reason)
      } else {
        const reason = failures[0] ?? 'nothing played'
        this.setState(a.alertId, 'failed', reason)
        this.ack(a.ackId, 'failed', reason)
      }
    })()
  }
}
