import type { DesiredStateBody } from '@loa/shared'
import type { Logger } from 'pino'
import { type Clock, monotonicMs, systemClock } from '../clock/clock.js'
import type { Outbox } from '../link/outbox.js'
import type { MediaCache } from '../media/cache.js'
import { iso, reportBase } from '../playback/item-player.js'
import { occurrenceReported, type PlayLog } from '../playback/play-log.js'
import { type Db, kvGet, kvSet } from '../storage/db.js'
import { Arbiter, type QueuedOccurrence } from './arbiter.js'
import { OccurrenceSource } from './occurrence-source.js'
import { lateness, UnsureOccurrences } from './unsure-occurrences.js'

const MAX_LOOKBACK_MS = 7 * 86_400_000
const CURSOR_PERSIST_MS = 60_000
/**
 * A cursor further than this past the horizon asked for, by a trusted clock, means the clock stepped back (or the
 * previous run's clock was ahead): it is brought back to now. More than the largest horizon (pre-roll + post-roll
 * + a tick, ≤ 2 min).
 */
const CURSOR_AHEAD_SLACK_MS = 150_000
/** Held occurrences are re-evaluated at most this often (each pass evaluates every schedule entry). */
const RESOLVE_EVERY_MS = 1000

export interface OccurrenceQueueOptions {
  db: Db
  outbox: Outbox
  cache: MediaCache
  log: Logger
  desired: () => DesiredStateBody | null
  defaultTimezone: string
  /** Occurrences found later than this after their instant (e.g. after a restart) are skipped as missed. */
  late: number
  clock?: Clock
  /** Where plays are written: a full disk keeps them in memory rather than losing them (playback/play-log.ts). */
  plays: PlayLog
}

/**
 * The occurrences waiting to play: a persisted cursor marks how far the schedule has been taken, and occurrences
 * taken but not yet reported are persisted too (`scheduler.pending`), so a restart reports them (`skipped`, reason
 * `missed`) or plays them if less than `late` late — never forgets them, never plays them hours late. Alerts are
 * queued here too but persisted by the alert manager, not in `scheduler.pending`.
 *
 * Time is the clock's (clock/clock.ts): "missed" is judged against its lower bound, so an untrusted clock that runs ahead
 * never reports occurrences that have not happened (they wait in `unsure` until the clock can tell), and a cursor
 * left in the future by a clock that stepped back is brought back to now. Whatever the cursor does, an occurrence
 * already reported (table `plays`) or queued is never taken twice.
 */
export class OccurrenceQueue {
  readonly arbiter = new Arbiter()
  private readonly pending = new Map<string, QueuedOccurrence>()
  private cursor = 0
  private persistedAt = Number.NEGATIVE_INFINITY
  readonly source: OccurrenceSource
  private readonly clock: Clock
  private readonly unsure: UnsureOccurrences
  private resolvedAt = Number.NEGATIVE_INFINITY

  constructor(private readonly o: OccurrenceQueueOptions) {
    this.source = new OccurrenceSource(o.defaultTimezone, o.log)
    this.clock = o.clock ?? systemClock
    this.unsure = new UnsureOccurrences(o.db)
  }

  /** Reported (table `plays`) or waiting: never taken again, whatever the clock did. */
  private taken(q: QueuedOccurrence): boolean {
    return this.pending.has(q.key) || occurrenceReported(this.o.db, q.scheduleId, q.at)
  }

  /** Plays, reports missed, or holds an occurrence the cursor has reached. Inside `plays.write`. */
  private take(q: QueuedOccurrence, now: number, lowerBound: number, whole: boolean): void {
    const l = lateness(Date.parse(q.at), now, lowerBound, this.o.late)
    if (l === 'play') this.add(q)
    else if (l === 'missed') this.skip(q, 'missed')
    else if (whole) this.unsure.include(Date.parse(q.at))
    else {
      this.pending.delete(q.key)
      this.unsure.hold(q)
    }
  }

  restore(): void {
    const now = this.clock.now()
    const lb = this.clock.lowerBound()
    const saved = kvGet(this.o.db, 'scheduler.cursor')
    this.cursor = Math.max(saved ? Date.parse(saved) : now, now - MAX_LOOKBACK_MS)
    this.unsure.restore()
    const restored = JSON.parse(kvGet(this.o.db, 'scheduler.pending') ?? '[]') as QueuedOccurrence[]
    this.o.plays.write(() => {
      for (const q of restored) {
        // Taken whole but already reported (a play log kept from a damaged database): never again. A preempted
        // part (`~pN`) shares its occurrence with the interrupted report and still has to play.
        if (!q.key.includes('~p') && occurrenceReported(this.o.db, q.scheduleId, q.at)) continue
        // Pending entries may be preemption remainders: held as they are, not re-derived from the schedule.
        this.take(q, now, lb, false)
      }
      this.persist()
    })
  }

  /** Queues an occurrence (an alert is queued but not persisted here). Call inside `plays.write`, then persist. */
  add(q: QueuedOccurrence): void {
    if (!q.alert && !q.live) this.pending.set(q.key, q)
    this.arbiter.push(q)
  }

  /**
   * A popped occurrence (not an alert or a live turn) that could not start within `grace` of its instant is
   * reported `grace-expired` — when a time certainly reached says so. One past it only by a clock that may be ahead
   * (it jumped forward while not trusted) was waiting its turn moments ago: it still plays. Returns whether skipped.
   */
  pastGrace(q: QueuedOccurrence, now: number, grace: number): boolean {
    const at = Date.parse(q.at)
    if (q.alert || q.live || now - at <= grace || this.clock.lowerBound() - at <= grace) return false
    this.o.plays.write(() => this.skip(q, 'grace-expired'))
    return true
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
    const from = new Date(this.clock.now() - this.o.late)
    const to = new Date(this.cursor)
    const found = this.source.between(d, from, to).filter((q) => !this.taken(q))
    if (found.length === 0) return
    this.o.plays.write(() => {
      for (const q of found) this.add(q)
      this.persist()
    })
    this.o.log.info({ count: found.length }, 'late occurrences of a new desired state queued')
  }

  persist(): void {
    // Written without the database (the disk is full): the next write persists the state in memory.
    if (this.o.plays.offline) return
    this.persistedAt = monotonicMs()
    kvSet(this.o.db, 'scheduler.cursor', iso(this.cursor))
    kvSet(this.o.db, 'scheduler.pending', JSON.stringify([...this.pending.values()]))
    this.unsure.persist()
  }

  /** Takes occurrences in [cursor, horizon) into the queue; those already too late are reported missed. */
  collect(horizon: number): void {
    const now = this.clock.now()
    const lb = this.clock.lowerBound()
    if (this.cursor > horizon + CURSOR_AHEAD_SLACK_MS && this.clock.nowIsWall()) {
      // A trusted clock behind the cursor: it stepped back (or the previous run's was ahead). Everything between
      // now and the old cursor was taken already, so re-scanning it finds only what was not. While the clock is
      // not trusted the cursor stays: it may be right and "now" behind, and nothing up to it is lost.
      this.o.log.warn(
        { cursor: iso(this.cursor), now: iso(now) },
        'scheduler cursor ahead of the clock: reset',
      )
      this.cursor = now
      this.source.forget()
    }
    this.resolveUnsure(now, lb)
    if (horizon <= this.cursor) return
    const d = this.o.desired()
    const found = this.source.between(d, new Date(this.cursor), new Date(horizon), true)
    this.cursor = horizon
    // Persisting on every tick would wear the SD card. Skipping it is safe when nothing was found: a restart
    // re-scans from the older cursor and finds nothing new in between.
    if (found.length === 0 && monotonicMs() - this.persistedAt < CURSOR_PERSIST_MS) return
    // An occurrence this box has already reported (its cursor went back: a clock step, a lost WAL, a recovered
    // database) is neither played nor reported again (`taken`).
    this.o.plays.write(() => {
      for (const q of found) if (!this.taken(q)) this.take(q, now, lb, true)
      this.persist()
    })
    if (found.length > 0) this.o.log.info({ count: found.length }, 'occurrences queued')
  }

  /**
   * Occurrences held while the clock could not tell: once the lower bound has passed them they are reported missed;
   * once the clock says they are not late after all (it stepped back) they are queued. The rest stay held.
   */
  private resolveUnsure(now: number, lb: number): void {
    const u = this.unsure
    if (u.empty || this.clock.mono() - this.resolvedAt < RESOLVE_EVERY_MS) return
    this.resolvedAt = this.clock.mono()
    const missedBefore = lb - this.o.late
    const lateBefore = now - this.o.late
    const r = u.range
    const due = (at: number) => at < missedBefore || at >= lateBefore
    if (!(r && (r.from < missedBefore || r.to > lateBefore)) && !u.held.some((q) => due(Date.parse(q.at)))) {
      return
    }
    const d = this.o.desired()
    let missed = 0
    let queued = 0
    this.o.plays.write(() => {
      const held = u.held
      u.held = []
      for (const q of held) this.take(q, now, lb, false)
      if (r) {
        const cut = Math.min(r.to, missedBefore)
        if (cut > r.from) {
          for (const q of this.source.between(d, new Date(r.from), new Date(cut))) {
            if (this.taken(q)) continue
            this.skip(q, 'missed')
            missed++
          }
          r.from = cut
        }
        const back = Math.max(r.from, lateBefore)
        if (back < r.to) {
          for (const q of this.source.between(d, new Date(back), new Date(r.to))) {
            if (this.taken(q)) continue
            this.add(q)
            queued++
          }
          r.to = back
        }
        if (r.from >= r.to) u.range = null
      }
      this.persist()
    })
    this.o.log.info({ missed, queued, held: u.held.length, range: u.range }, 'unsure occurrences resolved')
  }

  /** Reports every item of an occurrence skipped, at once (the amplifier is not switched). Runs inside `plays.write`. */
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
