import { type DesiredStateBody, nextOccurrence, occurrencesBetween } from '@loa/shared'
import type { Logger } from 'pino'
import type { QueuedOccurrence } from './arbiter.js'

const NEXT_HORIZON_DAYS = 2

/** Turns the schedule entries of a desired state into queueable occurrences, evaluated in its time zone. */
export class OccurrenceSource {
  /** Per schedule entry id: its next occurrence at or after the last window end (valid for one version). */
  private readonly nextAt = new Map<string, number>()
  private cacheVersion: number | undefined = undefined

  constructor(
    private readonly defaultTimezone: string,
    private readonly log: Logger,
  ) {}

  /** The window moved back (the clock stepped back): the cached next occurrences no longer hold. */
  forget(): void {
    this.nextAt.clear()
  }

  tz(d: DesiredStateBody | null): string {
    return d?.timezone ?? this.defaultTimezone
  }

  /**
   * Occurrences of every entry in [from, to). With `useCache` (for windows that only move forward), an entry whose
   * next occurrence is known to be at or after `to` is not evaluated at all: the scheduler ticks several times a
   * second over up to 2000 entries.
   */
  between(d: DesiredStateBody | null, from: Date, to: Date, useCache = false): QueuedOccurrence[] {
    const found: QueuedOccurrence[] = []
    if (useCache && this.cacheVersion !== d?.version) {
      this.nextAt.clear()
      this.cacheVersion = d?.version
    }
    for (const e of d?.schedule ?? []) {
      if (useCache && (this.nextAt.get(e.id) ?? 0) >= to.getTime()) continue
      let ats: Date[] = []
      try {
        ats = occurrencesBetween(e.recurrence, this.tz(d), from, to)
        if (useCache) {
          const next = nextOccurrence(e.recurrence, this.tz(d), to, NEXT_HORIZON_DAYS)
          this.nextAt.set(e.id, next ? next.getTime() : to.getTime() + NEXT_HORIZON_DAYS * 86_400_000)
        }
      } catch (err) {
        this.log.warn({ err, scheduleId: e.id }, 'cannot evaluate schedule')
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
          ...(e.onPreempt ? { onPreempt: e.onPreempt } : {}),
        })
      }
    }
    return found
  }
}
