import type { BulletinLevel, PreemptPolicy } from '@loa/shared'

/** The alert an occurrence plays, when it is one (acks and withdrawal go by these). */
export interface QueuedAlert {
  alertId: string
  revision: number
  ackId: string
  expiresAt: string
}

/** The live relay an occurrence plays, when it is one: audio comes from its open connection, not from files. */
export interface QueuedLive {
  /** The live id, or `relay:<entry id>@<instant>` for an occurrence of a recurring relay. */
  liveId: string
}

/** One occurrence of one schedule entry (or one alert), waiting to play (persisted across restarts). */
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
  /** What happens when a higher band interrupts it (default `restart`). */
  onPreempt?: PreemptPolicy
  /** Resuming after a preemption: the first item starts this far in. */
  offsetMs?: number
  /** Set for alerts: no grace period (they have `expiresAt`), acks under `ackId`. */
  alert?: QueuedAlert
  /** Set for live relays (items empty): played by the live manager's hook, persisted by it. */
  live?: QueuedLive
}

/** What is playing now, as far as preemption is concerned. */
export interface Playing {
  priority: number
  fallback: boolean
}

/**
 * Decides what plays next: highest priority band first, then earliest. A higher band preempts a lower one at
 * once; an equal band never interrupts (it waits its turn); the fallback programme yields to anything scheduled.
 * An emergency (≥ 200) is therefore interrupted only by a higher emergency.
 */
export class Arbiter {
  private readonly queue: QueuedOccurrence[] = []

  push(o: QueuedOccurrence): void {
    if (this.queue.some((q) => q.key === o.key)) return
    this.queue.push(o)
    this.queue.sort((a, b) => b.priority - a.priority || Date.parse(a.at) - Date.parse(b.at))
  }

  /** Removes and returns the best occurrence whose amplifier-on time (`at - prerollMs`) has come. */
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

  /** The due occurrence that should stop what is playing, if any. */
  preemptor(current: Playing, now: number, prerollMs: number): QueuedOccurrence | undefined {
    const due = this.peekDue(now, prerollMs)
    if (!due) return undefined
    return current.fallback || due.priority > current.priority ? due : undefined
  }

  /** Removes every queued occurrence matching `pred`; returns how many. */
  remove(pred: (q: QueuedOccurrence) => boolean): number {
    let n = 0
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (pred(this.queue[i] as QueuedOccurrence)) {
        this.queue.splice(i, 1)
        n++
      }
    }
    return n
  }

  all(): readonly QueuedOccurrence[] {
    return this.queue
  }

  get size(): number {
    return this.queue.length
  }
}
