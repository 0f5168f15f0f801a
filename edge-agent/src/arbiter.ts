import type { BulletinLevel } from '@loa/shared'

/** One occurrence of one schedule entry, waiting to play (persisted across restarts). */
export interface QueuedOccurrence {
  key: string
  scheduleId: string
  title: string
  level: BulletinLevel
  priority: number
  /** Scheduled instant, ISO UTC: the audio starts then. */
  at: string
  items: string[]
  /** 0–100. */
  volume: number
}

/**
 * Decides what plays next: highest priority band first, then earliest. Equal or lower bands wait their turn.
 * Preemption of a running play by a higher band (a later issue) plugs in through `wouldPreempt`.
 */
export class Arbiter {
  private readonly queue: QueuedOccurrence[] = []

  push(o: QueuedOccurrence): void {
    if (this.queue.some((q) => q.key === o.key)) return
    this.queue.push(o)
    this.queue.sort((a, b) => b.priority - a.priority || Date.parse(a.at) - Date.parse(b.at))
  }

  /** Removes and returns the best occurrence whose relay-on time (`at - prerollMs`) has come. */
  popDue(now: number, prerollMs: number): QueuedOccurrence | undefined {
    const i = this.queue.findIndex((q) => Date.parse(q.at) - prerollMs <= now)
    return i < 0 ? undefined : this.queue.splice(i, 1)[0]
  }

  /** The best due occurrence, without removing it. */
  peekDue(now: number, prerollMs: number): QueuedOccurrence | undefined {
    return this.queue.find((q) => Date.parse(q.at) - prerollMs <= now)
  }

  /** The earliest queued occurrence, whatever its priority. */
  soonest(): QueuedOccurrence | undefined {
    let best: QueuedOccurrence | undefined
    for (const q of this.queue) if (!best || Date.parse(q.at) < Date.parse(best.at)) best = q
    return best
  }

  /** Whether a due occurrence should stop what is playing at `currentPriority` (only the fallback, for now). */
  wouldPreempt(currentPriority: number, currentIsFallback: boolean, now: number, prerollMs: number): boolean {
    const due = this.peekDue(now, prerollMs)
    return due !== undefined && currentIsFallback && due.priority > currentPriority
  }

  all(): readonly QueuedOccurrence[] {
    return this.queue
  }

  get size(): number {
    return this.queue.length
  }
}
