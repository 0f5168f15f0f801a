import { type Db, kvGet, kvSet } from '../storage/db.js'
import type { QueuedOccurrence } from './arbiter.js'

const KV = 'scheduler.unsure'

/** How a late-looking occurrence is treated: played (not late), reported missed (surely), or held (can't tell). */
export type Lateness = 'play' | 'missed' | 'unsure'

/**
 * Judges an occurrence at `at` against the best `now` and the `lowerBound` (a time certainly passed): it is missed
 * only if it is more than `late` before the lower bound. Between the two it is unsure: the local clock says it is
 * past, but the clock is not trusted and may be ahead.
 */
export function lateness(at: number, now: number, lowerBound: number, late: number): Lateness {
  if (at >= now - late) return 'play'
  if (at < lowerBound - late) return 'missed'
  return 'unsure'
}

/**
 * Occurrences that looked late by an untrusted clock: neither played (a burst of catch-ups) nor reported missed (they
 * may not have happened yet) until the clock can tell. Kept as one time range, re-evaluated from the desired state
 * (so a wrong clock a week ahead costs two numbers, not thousands of rows), plus the few restored pending entries
 * (preemption remainders cannot be re-derived). Persisted in kv `scheduler.unsure`.
 */
export class UnsureOccurrences {
  range: { from: number; to: number } | null = null
  held: QueuedOccurrence[] = []
  private saved = 'null'

  constructor(private readonly db: Db) {}

  get empty(): boolean {
    return this.range === null && this.held.length === 0
  }

  restore(): void {
    try {
      const v = JSON.parse(kvGet(this.db, KV) ?? 'null') as {
        range: UnsureOccurrences['range']
        held: QueuedOccurrence[]
      } | null
      this.range = v?.range ?? null
      this.held = v?.held ?? []
    } catch {
      this.range = null
      this.held = []
    }
    this.saved = kvGet(this.db, KV) ?? 'null'
  }

  include(at: number): void {
    this.range = this.range
      ? { from: Math.min(this.range.from, at), to: Math.max(this.range.to, at + 1) }
      : { from: at, to: at + 1 }
  }

  hold(q: QueuedOccurrence): void {
    if (!this.held.some((h) => h.key === q.key)) this.held.push(q)
  }

  /** Writes the kv row when it changed; call inside the caller's transaction. */
  persist(): void {
    const v = this.empty ? 'null' : JSON.stringify({ range: this.range, held: this.held })
    if (v === this.saved) return
    kvSet(this.db, KV, v)
    this.saved = v
  }
}
