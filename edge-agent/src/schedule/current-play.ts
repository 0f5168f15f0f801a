import type { QueuedOccurrence } from './arbiter.js'

/** The occurrence (or fallback item, q = null) being played, and why it was stopped if it was. */
export interface Current {
  q: QueuedOccurrence | null
  priority: number
  fallback: boolean
  abort: AbortController
  /** Set when stopped for preemption or withdrawal (not shutdown). */
  interrupt: { kind: 'preempt' | 'withdrawn'; reason: string } | null
}

/**
 * The scheduler's one play under way (an item or a live relay's turn), each with its own abort, so preemption,
 * withdrawal and shutdown (`stop`, the scheduler's stop signal) can stop it.
 */
export class CurrentPlay {
  private playing: Current | null = null

  constructor(private readonly stop: AbortSignal) {}

  get current(): Current | null {
    return this.playing
  }

  /** Stops the play if its occurrence matches (withdrawal); an earlier interrupt reason stays. */
  interruptIf(match: (q: QueuedOccurrence) => boolean, reason: string): void {
    const c = this.playing
    if (c?.q && match(c.q)) {
      c.interrupt ??= { kind: 'withdrawn', reason }
      c.abort.abort()
    }
  }

  /** Stops whatever is playing (shutdown: no interrupt is recorded). */
  abort(): void {
    this.playing?.abort.abort()
  }

  /** Runs one play as `current`, so preemption, withdrawal and shutdown can stop it. */
  async run<T>(q: QueuedOccurrence | null, priority: number, play: (c: Current) => Promise<T>): Promise<T> {
    const abort = new AbortController()
    const c: Current = { q, priority, fallback: q === null, abort, interrupt: null }
    this.playing = c
    const onStop = () => abort.abort()
    this.stop.addEventListener('abort', onStop, { once: true })
    try {
      return await play(c)
    } finally {
      this.playing = null
      this.stop.removeEventListener('abort', onStop)
    }
  }
}
