import {
  DEFAULT_TIMEZONE,
  type DesiredStateBody,
  inWindow,
  isValidTimeZone,
  nextOccurrence,
  type ReportedStateBody,
} from '@loa/shared'
import type { Logger } from 'pino'
import { monotonicMs } from '../clock/clock.js'
import { describeError } from '../errors.js'
import type { Outbox } from '../link/outbox.js'
import type { MediaCache } from '../media/cache.js'
import { MediaFetcher } from '../media/fetch.js'
import type { Db } from '../storage/db.js'
import { diskSpace } from '../storage/disk-space.js'
import { isDiskFull, type StorageGuard } from '../storage/guard.js'
import { referencedMedia, sanitizeDesired } from './sanitize.js'
import type { DesiredStore } from './store.js'

export interface ReconcilerOptions {
  db: Db
  store: DesiredStore
  cache: MediaCache
  outbox: Outbox
  log: Logger
  controlPlaneUrl: string
  agentVersion: string
  dataDir: string
  cacheBudgetBytes: number
  minFreeBytes: number
  /** Used when a desired state names a time zone this system does not know. */
  defaultTimezone?: string
  /** First retry delay after a failed download; doubles up to retryMaxMs, with jitter. */
  retryBaseMs?: number
  retryMaxMs?: number
  /** Media that must be kept although the desired state does not list it (active alerts). */
  extraMedia?: () => Iterable<string>
  /** Downloads with the device's credentials and TLS material (link/verify-http.ts). */
  fetch?: typeof fetch
  /** "Now" (the agent's clock, clock/clock.ts): which media are needed soonest. Default the wall clock. */
  now?: () => number
  /** Where database and disk faults go (storage/guard.ts). */
  storage?: StorageGuard
  /** While media wait for room on the disk (or a pass failed on a full disk), a pass is tried this often. */
  roomRetryMs?: number
}

/**
 * Brings the media cache to what the newest desired state needs: evicts, downloads (soonest needed first),
 * retries with backoff, and marks the state applied when every file is ready.
 */
export class Reconciler {
  private running: Promise<void> | null = null
  private again = false
  private stopped = false
  private retryTimer: NodeJS.Timeout | null = null
  private roomTimer: NodeJS.Timeout | null = null
  /** The deferred files last reported in `disk-low`. */
  private diskLowSaid = ''
  private readonly failures = new Map<string, { count: number; nextAt: number }>()
  private readonly abort = new AbortController()
  private readonly retryBaseMs: number
  private readonly retryMaxMs: number
  readonly fetcher: MediaFetcher

  constructor(private readonly o: ReconcilerOptions) {
    this.retryBaseMs = o.retryBaseMs ?? 5_000
    this.retryMaxMs = o.retryMaxMs ?? 600_000
    this.fetcher = new MediaFetcher(o.cache, o.controlPlaneUrl, this.abort.signal, o.fetch)
  }

  private referenced(body: DesiredStateBody): Set<string> {
    const out = referencedMedia(body)
    for (const sha of this.o.extraMedia?.() ?? []) out.add(sha)
    return out
  }

  /**
   * Accepts a decoded desired state for this device: ignores one not newer than held, drops invalid entries
   * (reported `schedule-invalid`), stores it atomically with its `desired-received` event, then reconciles.
   */
  accept(raw: DesiredStateBody): 'stored' | 'ignored' {
    const held = this.o.store.received()
    if (held && raw.version <= held.version) {
      this.o.log.debug(
        { version: raw.version, held: held.version },
        'desired state not newer than held: ignored',
      )
      return 'ignored'
    }
    const { body, problems } = sanitizeDesired(raw)
    if (!isValidTimeZone(body.timezone)) {
      const fallbackTz = this.o.defaultTimezone ?? DEFAULT_TIMEZONE
      problems.push({
        id: 'timezone',
        problems: [`timezone: unknown zone ${body.timezone}, using ${fallbackTz}`],
      })
      body.timezone = fallbackTz
    }
    this.o.db.transaction(() => {
      this.o.store.saveReceived(body)
      for (const p of problems) {
        this.o.outbox.event(
          'schedule-invalid',
          'warning',
          `schedule ${p.id} ignored: ${p.problems.join('; ')}`,
          {
            version: body.version,
            scheduleId: p.id,
            problems: p.problems,
          },
        )
      }
      this.o.outbox.event('desired-received', 'info', `desired state v${body.version} received`, {
        version: body.version,
        schedules: body.schedule.length,
        media: body.media.length,
      })
      for (const m of body.media) this.o.cache.ensure(m.sha256, m.size)
    })()
    this.o.log.info({ version: body.version, dropped: problems.length }, 'desired state stored')
    this.kick()
    return 'stored'
  }

  /** Runs a reconcile pass now, or right after the current one. */
  kick(): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = (async () => {
      do {
        this.again = false
        try {
          await this.pass()
        } catch (err) {
          this.o.log.error({ err }, 'reconcile pass failed')
          this.o.storage?.handle(err)
          if (isDiskFull(err)) this.retryForRoom()
        }
      } while (this.again && !this.stopped)
      this.running = null
    })()
  }

  /** Resolves when no pass is running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  stop(): void {
    this.stopped = true
    this.abort.abort()
    if (this.retryTimer) clearTimeout(this.retryTimer)
    if (this.roomTimer) clearTimeout(this.roomTimer)
  }

  /**
   * The disk had no room (media deferred, or a write failed): try again in a while by itself, so a box whose disk
   * was freed applies its desired state without anyone sending a resync.
   */
  private retryForRoom(): void {
    if (this.roomTimer || this.stopped) return
    this.roomTimer = setTimeout(() => {
      this.roomTimer = null
      this.kick()
    }, this.o.roomRetryMs ?? 30_000)
    this.roomTimer.unref()
  }

  /** The disk has room again: downloads that failed for lack of it are tried now, not after their backoff. */
  roomReturned(): void {
    this.failures.clear()
    this.kick()
  }

  private soonestNeed(body: DesiredStateBody, now: Date): Map<string, number> {
    const need = new Map<string, number>()
    const set = (sha: string, t: number) =>
      need.set(sha, Math.min(need.get(sha) ?? Number.POSITIVE_INFINITY, t))
    for (const e of body.schedule) {
      let t = Number.POSITIVE_INFINITY
      try {
        t = nextOccurrence(e.recurrence, body.timezone, now)?.getTime() ?? t
      } catch {
        // Bad time zone: order does not matter then.
      }
      for (const sha of e.items) set(sha, t)
    }
    if (body.fallback) {
      let t = now.getTime() + 86_400_000
      try {
        if (inWindow(body.fallback.windows, now, body.timezone)) t = now.getTime()
      } catch {}
      for (const sha of body.fallback.items) set(sha, t)
    }
    return need
  }

  private async pass(): Promise<void> {
    const desired = this.o.store.received()
    if (!desired) return
    const { body } = desired
    const { cache, outbox, log } = this.o
    const referenced = this.referenced(body)
    const now = new Date(this.o.now?.() ?? Date.now())
    cache.sweep(referenced)
    const missing: typeof body.media = []
    for (const m of body.media) {
      if (cache.isReady(m.sha256)) continue
      cache.ensure(m.sha256, m.size)
      if (!(await cache.adopt(m.sha256, m.size))) missing.push(m)
    }

    // Disk: make room by evicting unreferenced media, least recently used first.
    const { free } = await diskSpace(this.o.dataDir)
    const need = missing.reduce((n, m) => n + m.size, 0)
    const cacheBytes = cache.cacheBytes()
    const fits = (freed: number, needBytes: number) =>
      cacheBytes - freed + needBytes <= this.o.cacheBudgetBytes &&
      free + freed - needBytes >= this.o.minFreeBytes
    const freed = cache.evict(referenced, (f) => fits(f, need)).reduce((n, e) => n + e.size, 0)
    const soonest = this.soonestNeed(body, now)
    missing.sort(
      (a, b) =>
        (soonest.get(a.sha256) ?? Number.POSITIVE_INFINITY) -
        (soonest.get(b.sha256) ?? Number.POSITIVE_INFINITY),
    )
    let todo = missing
    if (!fits(freed, need)) {
      // Download what fits, soonest needed first.
      const after = cache.cacheBytes()
      const freeNow = (await diskSpace(this.o.dataDir)).free
      let used = 0
      todo = missing.filter((m) => {
        const ok =
          after + used + m.size <= this.o.cacheBudgetBytes && freeNow - used - m.size >= this.o.minFreeBytes
        if (ok) used += m.size
        return ok
      })
      // Said once per set of deferred files (a pass runs every roomRetryMs while they wait), not on every pass.
      const deferred = missing.filter((m) => !todo.includes(m)).map((m) => m.sha256)
      const said = deferred.join(',')
      if (said !== this.diskLowSaid) {
        this.diskLowSaid = said
        outbox.event(
          'disk-low',
          'warning',
          `not enough room for ${missing.length - todo.length} media files`,
          {
            neededBytes: need,
            freeBytes: freeNow,
            cacheBytes: after,
            cacheBudgetBytes: this.o.cacheBudgetBytes,
            minFreeBytes: this.o.minFreeBytes,
            // Capped so the event stays within its channel's size limit.
            deferred: deferred.slice(0, 100),
          },
        )
      }
      this.retryForRoom()
    } else this.diskLowSaid = ''

    // The disk was found full: what room the reserve gave back is for the play log and the outbox, not for media.
    if (this.o.storage?.diskFull && todo.length > 0) {
      log.warn({ deferred: todo.length }, 'disk full: downloads wait for room')
      todo = []
      this.retryForRoom()
    }
    for (const m of todo) {
      if (this.stopped) return
      const f = this.failures.get(m.sha256)
      if (f && f.nextAt > monotonicMs()) continue
      const url = this.fetcher.url(m)
      try {
        await this.fetcher.fetch(m)
        this.failures.delete(m.sha256)
        log.info({ sha256: m.sha256, size: m.size }, 'media ready')
      } catch (err) {
        if (this.stopped) return
        const { code, details } = describeError(err)
        const count = (f?.count ?? 0) + 1
        const delay =
          Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (count - 1)) * (0.75 + Math.random() * 0.5)
        this.failures.set(m.sha256, { count, nextAt: monotonicMs() + delay })
        this.o.db.transaction(() => {
          cache.setState(m.sha256, 'failed', `${code}: ${details.join('; ')}`)
          const kind = code === 'LOA_DOWNLOAD_HASH' ? 'hash-mismatch' : 'download-failed'
          outbox.event(kind, 'warning', `download of ${m.sha256} failed: ${details.join('; ')}`, {
            sha256: m.sha256,
            url,
            code,
            details,
            attempt: count,
            retryInMs: Math.round(delay),
          })
        })()
        log.warn({ sha256: m.sha256, code, details, retryInMs: Math.round(delay) }, 'download failed')
      }
    }
    this.scheduleRetry()
    await this.maybeApplied()
  }

  private scheduleRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    if (this.failures.size === 0 || this.stopped) return
    const next = Math.min(...[...this.failures.values()].map((f) => f.nextAt))
    this.retryTimer = setTimeout(() => this.kick(), Math.max(50, next - monotonicMs()))
    this.retryTimer.unref()
  }

  private async maybeApplied(): Promise<void> {
    const desired = this.o.store.received()
    if (!desired) return
    const allReady = desired.body.media.every((m) => this.o.cache.isReady(m.sha256))
    const applied = this.o.store.applied()
    if (!allReady || applied?.version === desired.version) return
    const diskFree = await this.diskFree()
    this.o.db.transaction(() => {
      this.o.store.saveApplied(desired.body)
      this.o.cache.forgetUnreferenced(this.referenced(desired.body))
      this.o.outbox.event('desired-applied', 'info', `desired state v${desired.version} applied`, {
        version: desired.version,
      })
      this.o.outbox.enqueue('reported', this.snapshot(diskFree))
    })()
    this.o.log.info({ version: desired.version }, 'desired state applied')
  }

  private async diskFree(): Promise<number> {
    try {
      return (await diskSpace(this.o.dataDir)).free
    } catch {
      return 0
    }
  }

  /**
   * The reported state, read synchronously: the snapshot is taken right before it is enqueued, so the newest
   * pending one (the only one the outbox keeps) is always the newest truth.
   */
  private snapshot(diskFree: number): ReportedStateBody {
    const applied = this.o.store.applied()
    const received = this.o.store.received()
    return {
      desiredVersion: applied?.version ?? null,
      receivedVersion: received?.version ?? null,
      appliedAt: applied?.at ?? null,
      agentVersion: this.o.agentVersion,
      media: this.o.cache.inventory().slice(0, 10_000),
      cacheBytes: this.o.cache.cacheBytes(),
      cacheBudgetBytes: this.o.cacheBudgetBytes,
      diskFreeBytes: diskFree,
    }
  }

  async reportedState(): Promise<ReportedStateBody> {
    return this.snapshot(await this.diskFree())
  }

  async enqueueReportedState(): Promise<void> {
    const diskFree = await this.diskFree()
    this.o.outbox.enqueue('reported', this.snapshot(diskFree))
  }
}
