import { Bands, type NowPlaying, type PlayReportBody, type PlayStatus } from '@loa/shared'
import { type Clock, monotonicMs, sleepUntil, systemClock } from '../clock/clock.js'
import type { Outbox } from '../link/outbox.js'
import type { MediaCache } from '../media/cache.js'
import type { QueuedOccurrence } from '../schedule/arbiter.js'
import { isDiskFull } from '../storage/guard.js'
import type { Player } from './player.js'

// sleep lives in sleep.ts so player.ts need not import this file (which imports it); re-exported for callers.
export { sleep } from './sleep.js'

/** A play report before the amplifier goes off: the switch times (`relayOnAt`, `relayOffAt`) are filled in when it does. */
export type Report = Omit<PlayReportBody, 'relayOnAt' | 'relayOffAt'>

export const iso = (t: number | Date) => new Date(t).toISOString()

/** What a report says about the item's origin: a scheduled occurrence, or the fallback programme (q = null). */
export function reportBase(
  q: QueuedOccurrence | null,
  sha: string,
): Pick<
  PlayReportBody,
  'scheduleId' | 'title' | 'sha256' | 'level' | 'priority' | 'fallback' | 'occurrence'
> {
  if (!q) {
    const priority = Bands.fallback
    return {
      scheduleId: null,
      title: 'fallback',
      sha256: sha,
      level: 'normal',
      priority,
      fallback: true,
      occurrence: null,
    }
  }
  const { scheduleId, title, level, priority, at } = q
  return { scheduleId, title, sha256: sha, level, priority, fallback: false, occurrence: at }
}

export interface ItemRequest {
  q: QueuedOccurrence | null
  sha: string
  /** 0–100. */
  volume: number
  /** Audio must not start before this instant (the occurrence, and the end of the pre-roll). */
  notBefore: number
  /** Aborted to interrupt (preemption, withdrawal of an alert, or shutdown). */
  signal: AbortSignal
  /** Why `signal` was aborted, for the report (`shutdown`, `preempted by …`, `cancelled`, `expired`). */
  reason: () => string
  /** Start this far into the file (resuming after a preemption). */
  offsetMs?: number
  /** Called when the audio starts. */
  onStart?: () => void
}

/**
 * Verifies and plays one item. One bad item never stops the rest: a missing or corrupt file, or an ffmpeg
 * failure, is reported (`item-skipped`, and a failed/skipped report) and the caller goes on with the next.
 */
export class ItemPlayer {
  /** `sinceMono`: when it started, monotonic ms (the watchdog's "playing for too long"). */
  current: { priority: number; fallback: boolean; np: NowPlaying; sinceMono: number } | null = null

  constructor(
    private readonly o: {
      cache: MediaCache
      outbox: Outbox
      player: Player
      clock?: Clock
      onCorrupt?: () => void
      /** The manifest's duration of a file, to bound its play. */
      durationOf?: (sha: string) => number | undefined
    },
  ) {}

  /** Events about an item: the play report says the same, so a full disk must not stop the play over them. */
  private note(...args: Parameters<Outbox['event']>): void {
    try {
      this.o.outbox.event(...args)
    } catch (err) {
      if (!isDiskFull(err)) throw err
    }
  }

  async play(req: ItemRequest): Promise<{ report: Report; undecodable: boolean }> {
    const { q, sha, signal } = req
    const base = reportBase(q, sha)
    const none = { startedAt: null, endedAt: null, durationMs: 0 }
    const fail = (status: PlayStatus, reason: string) => {
      this.note(
        'item-skipped',
        'warning',
        `item ${sha} of ${q?.scheduleId ?? 'fallback'} not played: ${reason}`,
        {
          scheduleId: base.scheduleId,
          occurrence: base.occurrence,
          sha256: sha,
          status,
          reason,
        },
      )
      return { report: { ...base, status, reason, ...none }, undecodable: false }
    }
    const { cache } = this.o
    if (!cache.isReady(sha)) return fail('skipped', `media not ready (${cache.get(sha)?.state ?? 'unknown'})`)
    const v = await cache.verify(sha)
    if (!v.ok) {
      cache.markCorrupt(sha, v.reason)
      this.o.onCorrupt?.()
      return fail('failed', `corrupt: ${v.reason}`)
    }
    const why = req.reason
    const clock = this.o.clock ?? systemClock
    await sleepUntil(clock, req.notBefore, signal)
    if (signal.aborted) {
      return {
        report: { ...base, status: q ? 'skipped' : 'interrupted', reason: why(), ...none },
        undecodable: false,
      }
    }
    const startedAt = iso(clock.now())
    const np: NowPlaying = {
      scheduleId: base.scheduleId,
      title: base.title,
      sha256: sha,
      startedAt,
      fallback: base.fallback,
    }
    this.current = { priority: base.priority, fallback: base.fallback, np, sinceMono: monotonicMs() }
    req.onStart?.()
    const label = `${startedAt.replace(/[:.]/g, '-')}-${q?.scheduleId ?? 'fallback'}-${sha.slice(0, 12)}`
    try {
      const duration = this.o.durationOf?.(sha)
      const maxMs = duration ? duration * 2 + 30_000 : undefined
      const r = await this.o.player.play(
        cache.path(sha),
        req.volume / 100,
        label,
        signal,
        maxMs,
        req.offsetMs ?? 0,
      )
      cache.touch(sha)
      // The duration is monotonic, and the end is the start plus it: a clock stepped back mid-play neither makes
      // it negative nor ends the play before it began.
      const times = {
        startedAt: iso(r.startedAt),
        endedAt: iso(r.startedAt.getTime() + r.durationMs),
        durationMs: r.durationMs,
      }
      if (r.outcome === 'ok') return { report: { ...base, status: 'played', ...times }, undecodable: false }
      if (r.outcome === 'interrupted') {
        return { report: { ...base, status: 'interrupted', reason: why(), ...times }, undecodable: false }
      }
      const error = r.error ?? 'ffmpeg failed'
      this.note('player-error', 'error', error, { sha256: sha, scheduleId: base.scheduleId })
      this.note('item-skipped', 'warning', `item ${sha} failed to play`, {
        sha256: sha,
        scheduleId: base.scheduleId,
        occurrence: base.occurrence,
        status: 'failed',
        reason: error,
      })
      return { report: { ...base, status: 'failed', reason: error, ...times }, undecodable: true }
    } finally {
      this.current = null
    }
  }
}
