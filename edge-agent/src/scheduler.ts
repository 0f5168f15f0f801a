import { type DesiredStateBody, inWindow, type NowPlaying } from '@loa/shared'
import type { Logger } from 'pino'
import { Arbiter, type QueuedOccurrence } from './arbiter.js'
import { type Db, kvGet, kvSet } from './db.js'
import { ItemPlayer, iso, type Report, reportBase, sleep } from './item-player.js'
import type { MediaCache } from './media-cache.js'
import { OccurrenceSource } from './occurrence-source.js'
import type { Outbox } from './outbox.js'
import { recordPlay } from './play-log.js'
import type { Player } from './player.js'
import type { Relay } from './relay.js'

export interface SchedulerOptions {
  db: Db
  outbox: Outbox
  cache: MediaCache
  player: Player
  relay: Relay
  log: Logger
  /** The desired state to evaluate (the newest received). */
  desired: () => DesiredStateBody | null
  defaultTimezone: string
  prerollMs: number
  postrollMs: number
  /** Occurrences found later than this after their instant (e.g. after a restart) are skipped as missed. */
  lateToleranceMs?: number
  /** A queued occurrence that cannot start within this of its instant is skipped. */
  graceMs?: number
  tickMs?: number
  /** A cached file failed verification: the reconciler should fetch it again. */
  onCorrupt?: () => void
}

const MAX_LOOKBACK_MS = 7 * 86_400_000
const CURSOR_PERSIST_MS = 60_000
/**
 * Evaluates the schedule locally (in the desired state's time zone), so the cluster keeps its programme for days
 * without the control plane. A persisted cursor marks how far occurrences have been taken; occurrences taken but
 * not yet reported are persisted too, so a restart reports them (`skipped`, reason `missed`) or plays them if
 * less than `lateToleranceMs` late — never forgets them, never plays them hours late.
 */
export class Scheduler {
  private readonly arbiter = new Arbiter()
  private readonly pending = new Map<string, QueuedOccurrence>()
  private cursor = 0
  private stopped = false
  private readonly stopAbort = new AbortController()
  private itemAbort: AbortController | null = null
  private loop: Promise<void> | null = null
  private ticker: NodeJS.Timeout | null = null
  private wake: (() => void) | null = null
  private fallbackIndex = 0
  private persistedAt = 0
  private readonly source: OccurrenceSource
  private readonly badFallback = new Set<string>()
  private readonly late: number
  private readonly grace: number
  private readonly tickMs: number

  private readonly items: ItemPlayer

  constructor(private readonly o: SchedulerOptions) {
    this.source = new OccurrenceSource(o.defaultTimezone, o.log)
    this.items = new ItemPlayer({
      cache: o.cache,
      outbox: o.outbox,
      player: o.player,
      onCorrupt: o.onCorrupt,
      durationOf: (sha) => o.desired()?.media.find((m) => m.sha256 === sha)?.durationMs,
    })
    this.late = o.lateToleranceMs ?? 60_000
    this.grace = o.graceMs ?? 600_000
    this.tickMs = o.tickMs ?? 200
  }

  get nowPlaying(): NowPlaying | null {
    return this.items.current?.np ?? null
  }

  start(): void {
    const now = Date.now()
    const saved = kvGet(this.o.db, 'scheduler.cursor')
    this.cursor = Math.max(saved ? Date.parse(saved) : now, now - MAX_LOOKBACK_MS)
    const restored = JSON.parse(kvGet(this.o.db, 'scheduler.pending') ?? '[]') as QueuedOccurrence[]
    this.o.db.transaction(() => {
      for (const q of restored) {
        if (Date.parse(q.at) < now - this.late) this.skip(q, 'missed')
        else {
          this.pending.set(q.key, q)
          this.arbiter.push(q)
        }
      }
      this.persist()
    })()
    this.loop = this.run()
    this.ticker = setInterval(() => this.tick(), this.tickMs)
  }

  /** Stops playback (the current item is reported interrupted), turns the relay off and writes the reports. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.ticker) clearInterval(this.ticker)
    this.stopAbort.abort()
    this.itemAbort?.abort()
    this.wake?.()
    await this.loop
    await this.o.relay.set(false)
    this.o.db.transaction(() => this.persist())()
  }

  /** A new desired state: wake up, and forget fallback failures of the old one. */
  desiredChanged(): void {
    this.badFallback.clear()
    this.takeRecent()
    this.wake?.()
  }

  /**
   * A state arriving a little late (or adding an entry) may hold occurrences the cursor has already passed: take
   * those less than `lateToleranceMs` old that were neither queued nor reported.
   */
  private takeRecent(): void {
    const d = this.o.desired()
    if (!d) return
    const from = new Date(Date.now() - this.late)
    const to = new Date(this.cursor)
    const reported = this.o.db.prepare('SELECT 1 FROM plays WHERE schedule_id = ? AND occurrence = ? LIMIT 1')
    const found = this.source
      .between(d, from, to)
      .filter((q) => !this.pending.has(q.key) && reported.get(q.scheduleId, q.at) === undefined)
    if (found.length === 0) return
    this.o.db.transaction(() => {
      for (const q of found) {
        this.pending.set(q.key, q)
        this.arbiter.push(q)
      }
      this.persist()
    })()
    this.o.log.info({ count: found.length }, 'late occurrences of a new desired state queued')
  }

  private tz(d: DesiredStateBody | null): string {
    return this.source.tz(d)
  }

  private persist(): void {
    this.persistedAt = Date.now()
    kvSet(this.o.db, 'scheduler.cursor', iso(this.cursor))
    kvSet(this.o.db, 'scheduler.pending', JSON.stringify([...this.pending.values()]))
  }

  /** Takes occurrences in [cursor, horizon) into the queue; those already too late are reported missed. */
  private collect(horizon: number): void {
    if (horizon <= this.cursor) return
    const d = this.o.desired()
    const now = Date.now()
    const found = this.source.between(d, new Date(this.cursor), new Date(horizon), true)
    this.cursor = horizon
    // Persisting on every tick would wear the SD card. Skipping it is safe when nothing was found: a restart
    // re-scans from the older cursor and finds nothing new in between.
    if (found.length === 0 && Date.now() - this.persistedAt < CURSOR_PERSIST_MS) return
    this.o.db.transaction(() => {
      for (const q of found) {
        if (Date.parse(q.at) < now - this.late) this.skip(q, 'missed')
        else if (!this.pending.has(q.key)) {
          this.pending.set(q.key, q)
          this.arbiter.push(q)
        }
      }
      this.persist()
    })()
    if (found.length > 0) this.o.log.info({ count: found.length }, 'occurrences queued')
  }

  /** Reports every item of an occurrence skipped, at once (no relay involved). Runs inside a transaction. */
  private skip(q: QueuedOccurrence, reason: string | ((sha: string) => string)): void {
    for (const sha of q.items) {
      recordPlay(this.o.db, this.o.outbox, {
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

  private skipUnplayable(q: QueuedOccurrence): void {
    const reason = (sha: string) => `media not ready (${this.o.cache.get(sha)?.state ?? 'unknown'})`
    this.o.db.transaction(() => {
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
      this.skip(q, reason)
    })()
  }

  private tick(): void {
    const now = Date.now()
    this.collect(now + this.o.prerollMs)
    const c = this.items.current
    if (c && this.arbiter.wouldPreempt(c.priority, c.fallback, now, this.o.prerollMs)) this.itemAbort?.abort()
    if (this.arbiter.peekDue(now, this.o.prerollMs)) this.wake?.()
  }

  private fallbackItem(now: number): string | null {
    const d = this.o.desired()
    const fb = d?.fallback
    if (!fb || fb.items.length === 0) return null
    try {
      if (!inWindow(fb.windows, new Date(now), this.tz(d))) return null
    } catch {
      return null
    }
    for (let i = 0; i < fb.items.length; i++) {
      const sha = fb.items[(this.fallbackIndex + i) % fb.items.length] as string
      if (!this.badFallback.has(sha) && this.o.cache.isReady(sha)) {
        this.fallbackIndex = (this.fallbackIndex + i + 1) % fb.items.length
        return sha
      }
    }
    return null
  }

  private hasFallback(now: number): boolean {
    const saved = this.fallbackIndex
    const has = this.fallbackItem(now) !== null
    this.fallbackIndex = saved
    return has
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now()
      this.collect(now + this.o.prerollMs)
      try {
        const due = this.arbiter.peekDue(now, this.o.prerollMs)
        if (due && !this.hasFallback(now) && !due.items.some((sha) => this.o.cache.isReady(sha))) {
          // Nothing of it can play: report it without switching the amplifier on for silence.
          this.arbiter.popDue(now, this.o.prerollMs)
          this.skipUnplayable(due)
        } else if (due || this.hasFallback(now)) await this.session()
        else {
          // Sleep until the next occurrence's relay-on instant (at most one tick), not a whole tick past it:
          // a coarse tick alone would add up to tickMs of lateness to every start.
          this.collect(now + this.o.prerollMs + this.tickMs)
          const soon = this.arbiter.soonest()
          const untilDue = soon ? Date.parse(soon.at) - this.o.prerollMs - now : this.tickMs
          await new Promise<void>((resolve) => {
            this.wake = resolve
            setTimeout(resolve, Math.max(0, Math.min(this.tickMs, untilDue)))
          })
        }
      } catch (err) {
        this.o.log.error({ err }, 'scheduler loop error')
        await sleep(1000)
      }
      this.wake = null
    }
  }

  /** One relay-on period: occurrences and fallback items back to back, then post-roll, relay off, reports. */
  private async session(): Promise<void> {
    const reports: Report[] = []
    const finished: string[] = []
    await this.o.relay.set(true)
    const relayOnAt = Date.now()
    this.o.log.info('relay on')
    try {
      await this.sessionBody(relayOnAt, reports, finished)
    } finally {
      // Whatever went wrong in between (a full disk, a bug), the amplifier must not stay on.
      if (!this.stopped) await sleep(this.o.postrollMs, this.stopAbort.signal)
      await this.o.relay.set(false)
      this.o.log.info('relay off')
    }
    this.writeReports(reports, finished, relayOnAt, Date.now())
  }

  private async sessionBody(relayOnAt: number, reports: Report[], finished: string[]): Promise<void> {
    while (!this.stopped) {
      const now = Date.now()
      this.collect(now + this.o.prerollMs)
      const q = this.arbiter.popDue(now, this.o.prerollMs)
      if (q) {
        if (now - Date.parse(q.at) > this.grace) {
          this.o.db.transaction(() => this.skip(q, 'grace-expired'))()
          continue
        }
        await this.playOccurrence(q, relayOnAt, reports)
        finished.push(q.key)
        continue
      }
      const fb = this.fallbackItem(now)
      if (fb) {
        // The fallback may hold the relay on for hours: report what has finished now rather than at relay off.
        this.writeReports(reports, finished, relayOnAt, null)
        await this.playItem(
          null,
          fb,
          this.o.desired()?.fallback?.volume ?? this.o.desired()?.volume ?? 100,
          relayOnAt,
          reports,
        )
        continue
      }
      // Hold the relay if the next play starts within the post-roll.
      this.collect(now + this.o.postrollMs + this.o.prerollMs)
      const soon = this.arbiter.soonest()
      if (soon && Date.parse(soon.at) <= now + this.o.postrollMs) {
        await sleep(Date.parse(soon.at) - this.o.prerollMs - now, this.stopAbort.signal)
        continue
      }
      break
    }
  }

  /** Play log + outbox + pending queue in one transaction; empties `reports` and `finished`. */
  private writeReports(
    reports: Report[],
    finished: string[],
    relayOnAt: number,
    relayOffAt: number | null,
  ): void {
    if (reports.length === 0 && finished.length === 0) return
    this.o.db.transaction(() => {
      for (const r of reports) {
        recordPlay(this.o.db, this.o.outbox, {
          ...r,
          relayOnAt: iso(relayOnAt),
          relayOffAt: relayOffAt === null ? null : iso(relayOffAt),
        })
      }
      for (const k of finished) this.pending.delete(k)
      this.persist()
    })()
    reports.length = 0
    finished.length = 0
  }

  private async playOccurrence(q: QueuedOccurrence, relayOnAt: number, reports: Report[]): Promise<void> {
    // The audio starts at the scheduled instant, and never before the pre-roll has passed.
    const audioAt = Math.max(Date.parse(q.at), relayOnAt + this.o.prerollMs)
    this.o.log.info({ key: q.key, items: q.items.length }, 'occurrence starting')
    for (const sha of q.items) {
      if (this.stopped) {
        reports.push({
          ...reportBase(q, sha),
          status: 'skipped',
          reason: 'shutdown',
          startedAt: null,
          endedAt: null,
          durationMs: 0,
        })
        continue
      }
      await this.playItem(q, sha, q.volume, relayOnAt, reports, audioAt)
    }
  }

  /** Plays one item within the session; the item can be interrupted by preemption or shutdown. */
  private async playItem(
    q: QueuedOccurrence | null,
    sha: string,
    volume: number,
    relayOnAt: number,
    reports: Report[],
    notBefore = 0,
  ): Promise<void> {
    const itemAbort = new AbortController()
    this.itemAbort = itemAbort
    const onStop = () => itemAbort.abort()
    this.stopAbort.signal.addEventListener('abort', onStop, { once: true })
    try {
      const { report, undecodable } = await this.items.play({
        q,
        sha,
        volume,
        notBefore: Math.max(notBefore, relayOnAt + this.o.prerollMs),
        signal: itemAbort.signal,
        stopping: () => this.stopped,
      })
      reports.push(report)
      // A fallback file ffmpeg cannot decode would otherwise be retried in a tight loop.
      if (undecodable && !q) this.badFallback.add(sha)
    } finally {
      this.itemAbort = null
      this.stopAbort.signal.removeEventListener('abort', onStop)
    }
  }
}
