import {
  Bands,
  type DesiredStateBody,
  inWindow,
  type NowPlaying,
  occurrencesBetween,
  type PlayReportBody,
  type PlayStatus,
} from '@loa/shared'
import type { Logger } from 'pino'
import { Arbiter, type QueuedOccurrence } from './arbiter.js'
import { type Db, kvGet, kvSet } from './db.js'
import type { MediaCache } from './media-cache.js'
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

type Report = Omit<PlayReportBody, 'relayOnAt' | 'relayOffAt'>

const MAX_LOOKBACK_MS = 7 * 86_400_000
const iso = (t: number | Date) => new Date(t).toISOString()

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

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
  private current: { priority: number; fallback: boolean; np: NowPlaying } | null = null
  private loop: Promise<void> | null = null
  private ticker: NodeJS.Timeout | null = null
  private wake: (() => void) | null = null
  private fallbackIndex = 0
  private readonly badFallback = new Set<string>()
  private readonly late: number
  private readonly grace: number
  private readonly tickMs: number

  constructor(private readonly o: SchedulerOptions) {
    this.late = o.lateToleranceMs ?? 60_000
    this.grace = o.graceMs ?? 600_000
    this.tickMs = o.tickMs ?? 200
  }

  get nowPlaying(): NowPlaying | null {
    return this.current?.np ?? null
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
  }

  /** A new desired state: wake up, and forget fallback failures of the old one. */
  desiredChanged(): void {
    this.badFallback.clear()
    this.wake?.()
  }

  private tz(d: DesiredStateBody | null): string {
    return d?.timezone ?? this.o.defaultTimezone
  }

  private persist(): void {
    kvSet(this.o.db, 'scheduler.cursor', iso(this.cursor))
    kvSet(this.o.db, 'scheduler.pending', JSON.stringify([...this.pending.values()]))
  }

  /** Takes occurrences in [cursor, horizon) into the queue; those already too late are reported missed. */
  private collect(horizon: number): void {
    if (horizon <= this.cursor) return
    const d = this.o.desired()
    const now = Date.now()
    const found: QueuedOccurrence[] = []
    for (const e of d?.schedule ?? []) {
      let ats: Date[] = []
      try {
        ats = occurrencesBetween(e.recurrence, this.tz(d), new Date(this.cursor), new Date(horizon))
      } catch (err) {
        this.o.log.warn({ err, scheduleId: e.id }, 'cannot evaluate schedule')
      }
      for (const at of ats) {
        found.push({
          key: `${e.id}@${at.toISOString()}`,
          scheduleId: e.id,
          title: e.title,
          level: e.level,
          priority: e.priority,
          at: at.toISOString(),
          items: e.items,
          volume: e.volume ?? d?.volume ?? 100,
        })
      }
    }
    this.o.db.transaction(() => {
      for (const q of found) {
        if (Date.parse(q.at) < now - this.late) this.skip(q, 'missed')
        else if (!this.pending.has(q.key)) {
          this.pending.set(q.key, q)
          this.arbiter.push(q)
        }
      }
      this.cursor = horizon
      this.persist()
    })()
    if (found.length > 0) this.o.log.info({ count: found.length }, 'occurrences queued')
  }

  /** Reports every item of an occurrence skipped, at once (no relay involved). Runs inside a transaction. */
  private skip(q: QueuedOccurrence, reason: string): void {
    for (const sha of q.items) {
      recordPlay(this.o.db, this.o.outbox, {
        ...this.reportBase(q, sha),
        status: 'skipped',
        reason,
        relayOnAt: null,
        startedAt: null,
        endedAt: null,
        relayOffAt: null,
        durationMs: 0,
      })
    }
    this.pending.delete(q.key)
    this.persist()
    this.o.log.warn({ key: q.key, reason }, 'occurrence skipped')
  }

  private reportBase(
    q: QueuedOccurrence | null,
    sha: string,
  ): Pick<
    PlayReportBody,
    'scheduleId' | 'title' | 'sha256' | 'level' | 'priority' | 'fallback' | 'occurrence'
  > {
    if (!q) {
      return {
        scheduleId: null,
        title: 'fallback',
        sha256: sha,
        level: 'normal',
        priority: Bands.fallback,
        fallback: true,
        occurrence: null,
      }
    }
    return {
      scheduleId: q.scheduleId,
      title: q.title,
      sha256: sha,
      level: q.level,
      priority: q.priority,
      fallback: false,
      occurrence: q.at,
    }
  }

  private tick(): void {
    const now = Date.now()
    this.collect(now + this.o.prerollMs)
    const c = this.current
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
        if (this.arbiter.peekDue(now, this.o.prerollMs) || this.hasFallback(now)) await this.session()
        else
          await new Promise<void>((resolve) => {
            this.wake = resolve
            setTimeout(resolve, this.tickMs)
          })
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
    if (!this.stopped) await sleep(this.o.postrollMs, this.stopAbort.signal)
    await this.o.relay.set(false)
    const relayOffAt = Date.now()
    this.o.log.info('relay off')
    this.writeReports(reports, finished, relayOnAt, relayOffAt)
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
          ...this.reportBase(q, sha),
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

  /** Verifies and plays one item; one bad item is reported and never stops the rest. */
  private async playItem(
    q: QueuedOccurrence | null,
    sha: string,
    volume: number,
    relayOnAt: number,
    reports: Report[],
    notBefore = 0,
  ): Promise<void> {
    const base = this.reportBase(q, sha)
    const fail = (status: PlayStatus, reason: string) => {
      reports.push({ ...base, status, reason, startedAt: null, endedAt: null, durationMs: 0 })
      this.o.outbox.event(
        'item-skipped',
        'warning',
        `item ${sha} of ${q?.scheduleId ?? 'fallback'} not played: ${reason}`,
        {
          scheduleId: q?.scheduleId ?? null,
          occurrence: q?.at ?? null,
          sha256: sha,
          status,
          reason,
        },
      )
    }
    if (!this.o.cache.isReady(sha))
      return fail('skipped', `media not ready (${this.o.cache.get(sha)?.state ?? 'unknown'})`)
    const v = await this.o.cache.verify(sha)
    if (!v.ok) {
      this.o.cache.markCorrupt(sha, v.reason)
      this.o.onCorrupt?.()
      return fail('failed', `corrupt: ${v.reason}`)
    }
    const itemAbort = new AbortController()
    this.itemAbort = itemAbort
    const onStop = () => itemAbort.abort()
    this.stopAbort.signal.addEventListener('abort', onStop, { once: true })
    try {
      const start = Math.max(notBefore, relayOnAt + this.o.prerollMs)
      await sleep(start - Date.now(), itemAbort.signal)
      if (itemAbort.signal.aborted) {
        reports.push({
          ...base,
          status: q ? 'skipped' : 'interrupted',
          reason: this.stopped ? 'shutdown' : 'preempted',
          startedAt: null,
          endedAt: null,
          durationMs: 0,
        })
        return
      }
      const np: NowPlaying = {
        scheduleId: base.scheduleId,
        title: base.title,
        sha256: sha,
        startedAt: iso(Date.now()),
        fallback: base.fallback,
      }
      this.current = { priority: base.priority, fallback: base.fallback, np }
      const label = `${np.startedAt.replace(/[:.]/g, '-')}-${q?.scheduleId ?? 'fallback'}-${sha.slice(0, 12)}`
      const r = await this.o.player.play(this.o.cache.path(sha), volume / 100, label, itemAbort.signal)
      this.current = null
      this.o.cache.touch(sha)
      const times = {
        startedAt: iso(r.startedAt),
        endedAt: iso(r.endedAt),
        durationMs: r.endedAt.getTime() - r.startedAt.getTime(),
      }
      if (r.outcome === 'ok') reports.push({ ...base, status: 'played', ...times })
      else if (r.outcome === 'interrupted')
        reports.push({
          ...base,
          status: 'interrupted',
          reason: this.stopped ? 'shutdown' : 'preempted',
          ...times,
        })
      else {
        reports.push({ ...base, status: 'failed', reason: r.error ?? 'ffmpeg failed', ...times })
        this.o.outbox.event('player-error', 'error', r.error ?? 'ffmpeg failed', {
          sha256: sha,
          scheduleId: base.scheduleId,
        })
        this.o.outbox.event('item-skipped', 'warning', `item ${sha} failed to play`, {
          sha256: sha,
          scheduleId: base.scheduleId,
          occurrence: base.occurrence,
          status: 'failed',
          reason: r.error,
        })
        if (!q) this.badFallback.add(sha)
      }
    } finally {
      this.current = null
      this.itemAbort = null
      this.stopAbort.signal.removeEventListener('abort', onStop)
    }
  }
}
