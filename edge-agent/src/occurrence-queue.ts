import type { DesiredStateBody } from '@loa/shared'
import type { Logger } from 'pino'
import { Arbiter, type QueuedOccurrence } from './arbiter.js'
import { type Db, kvGet, kvSet } from './db.js'
import { iso, reportBase } from './item-player.js'
import type { MediaCache } from './media-cache.js'
import { OccurrenceSource } from './occurrence-source.js'
import type { Outbox } from './outbox.js'
import { occurrenceReported, type PlayLog } from './play-log.js'

const MAX_LOOKBACK_MS = 7 * 86_400_000
const CURSOR_PERSIST_MS = 60_000

export interface OccurrenceQueueOptions {
  db: Db
  outbox: Outbox
  cache: MediaCache
  log: Logger
  desired: () => DesiredStateBody | null
  defaultTimezone: string
  /** Occurrences found later than this after their instant (e.g. after a restart) are skipped as missed. */
  late: number
  /** Where plays are written: a full disk keeps them in memory rather than losing them (play-log.ts). */
  plays: PlayLog
}

/**
 * The occurrences waiting to play: a persisted cursor marks how far the schedule has been taken, and occurrences
 * taken but not yet reported are persisted too (`scheduler.pending`), so a restart reports them (`skipped`, reason
 * `missed`) or plays them if less than `late` late — never forgets them, never plays them hours late. Alerts are
 * queued here too but persisted by the alert manager, not in `scheduler.pending`.
 */
export class OccurrenceQueue {
  readonly arbiter = new Arbiter()
  private readonly pending = new Map<string, QueuedOccurrence>()
  private cursor = 0
  private persistedAt = 0
  readonly source: OccurrenceSource

  constructor(private readonly o: OccurrenceQueueOptions) {
    this.source = new OccurrenceSource(o.defaultTimezone, o.log)
  }

  restore(): void {
    const now = Date.now()
    const saved = kvGet(this.o.db, 'scheduler.cursor')
    this.cursor = Math.max(saved ? Date.parse(saved) : now, now - MAX_LOOKBACK_MS)
    const restored = JSON.parse(kvGet(this.o.db, 'scheduler.pending') ?? '[]') as QueuedOccurrence[]
    this.o.plays.write(() => {
      for (const q of restored) {
        // Taken whole but already reported (a play log kept from a damaged database): never again. A preempted
        // part (`~pN`) shares its occurrence with the interrupted report and still has to play.
        if (!q.key.includes('~p') && this.reported(q)) continue
        if (Date.parse(q.at) < now - this.o.late) this.skip(q, 'missed')
        else this.add(q)
      }
      this.persist()
    })
  }

  /** Queues an occurrence (an alert is queued but not persisted here). Call inside `plays.write`, then persist. */
  add(q: QueuedOccurrence): void {
    if (!q.alert && !q.live) this.pending.set(q.key, q)
    this.arbiter.push(q)
  }

  /** Forgets occurrences that have been reported. */
  finished(keys: readonly string[]): void {
    for (const k of keys) this.pending.delete(k)
  }

  /** Removes the queued parts of an alert (cancelled, expired or replaced); returns how many there were. */
  removeAlert(alertId: string): number {
    return this.arbiter.remove((q) => q.alert?.alertId === alertId)
  }

  /** Removes the queued turn of a live relay (dropped, stopped, ended or replaced). */
  removeLive(liveId: string): number {
    return this.arbiter.remove((q) => q.live?.liveId === liveId)
  }

  /**
   * A state arriving a little late (or adding an entry) may hold occurrences the cursor has already passed: take
   * those less than `late` old that were neither queued nor reported.
   */
  takeRecent(): void {
    const d = this.o.desired()
    if (!d) return
    const from = new Date(Date.now() - this.o.late)
    const to = new Date(this.cursor)
    const found = this.source
      .between(d, from, to)
      .filter((q) => !this.pending.has(q.key) && !this.reported(q))
    if (found.length === 0) return
    this.o.plays.write(() => {
      for (const q of found) this.add(q)
      this.persist()
    })
    this.o.log.info({ count: found.length }, 'late occurrences of a new desired state queued')
  }

  private reported(q: QueuedOccurrence): boolean {
    return occurrenceReported(this.o.db, q.scheduleId, q.at)
  }

  persist(): void {
    // Written without the database (the disk is full): the next write persists the state in memory.
    if (this.o.plays.offline) return
    this.persistedAt = Date.now()
    kvSet(this.o.db, 'scheduler.cursor', iso(this.cursor))
    kvSet(this.o.db, 'scheduler.pending', JSON.stringify([...this.pending.values()]))
  }

  /** Takes occurrences in [cursor, horizon) into the queue; those already too late are reported missed. */
  collect(horizon: number): void {
    if (horizon <= this.cursor) return
    const d = this.o.desired()
    const now = Date.now()
    // An occurrence this box has already reported (its cursor went back: a lost WAL, a recovered database) is
    // neither played nor reported again.
    const found = this.source
      .between(d, new Date(this.cursor), new Date(horizon), true)
      .filter((q) => !this.reported(q))
    this.cursor = horizon
    // Persisting on every tick would wear the SD card. Skipping it is safe when nothing was found: a restart
    // re-scans from the older cursor and finds nothing new in between.
    if (found.length === 0 && Date.now() - this.persistedAt < CURSOR_PERSIST_MS) return
    this.o.plays.write(() => {
      for (const q of found) {
        if (Date.parse(q.at) < now - this.o.late) this.skip(q, 'missed')
        else if (!this.pending.has(q.key)) this.add(q)
      }
      this.persist()
    })
    if (found.length > 0) this.o.log.info({ count: found.length }, 'occurrences queued')
  }

  /** Reports every item of an occurrence skipped, at once (no relay involved). Runs inside `plays.write`. */
  skip(q: QueuedOccurrence, reason: string | ((sha: string) => string)): void {
    for (const sha of q.items) {
      this.o.plays.record({
        ...reportBase(q, sha),
        status: 'skipped',
        reason: typeof reason === 'string' ? reason : reason(sha),
        relayOnAt: null,
        startedAt: null,
        endedAt: null,
        relayOffAt: null,
        durationMs: 0,
      })
    }
    this.pending.delete(q.key)
    this.persist()
    this.o.log.warn(
      { key: q.key, reason: typeof reason === 'string' ? reason : 'unplayable' },
      'occurrence skipped',
    )
  }

  skipUnplayable(q: QueuedOccurrence): void {
    const reason = (sha: string) => `media not ready (${this.o.cache.get(sha)?.state ?? 'unknown'})`
    this.o.plays.write(() => {
      this.skip(q, reason)
      // The play reports say it too: without the database (the disk is full) the events are left out.
      if (this.o.plays.offline) return
      for (const sha of q.items) {
        this.o.outbox.event(
          'item-skipped',
          'warning',
          `item ${sha} of ${q.scheduleId} not played: ${reason(sha)}`,
          {
            scheduleId: q.scheduleId,
            occurrence: q.at,
            sha256: sha,
            status: 'skipped',
            reason: reason(sha),
          },
        )
      }
    })
  }
}
