import { type DesiredStateBody, inWindow } from '@loa/shared'
import type { MediaCache } from '../media/cache.js'

/** Picks the next item of the fallback programme (looped inside its windows, skipping undecodable files). */
export class Fallback {
  private index = 0
  private readonly bad = new Set<string>()

  constructor(
    private readonly cache: MediaCache,
    private readonly desired: () => DesiredStateBody | null,
    private readonly tz: (d: DesiredStateBody | null) => string,
  ) {}

  /** A new desired state: forget the failures of the old one. */
  reset(): void {
    this.bad.clear()
  }

  /** A fallback file ffmpeg cannot decode would otherwise be retried in a tight loop. */
  markBad(sha: string): void {
    this.bad.add(sha)
  }

  next(now: number): string | null {
    const d = this.desired()
    const fb = d?.fallback
    if (!fb || fb.items.length === 0) return null
    try {
      if (!inWindow(fb.windows, new Date(now), this.tz(d))) return null
    } catch {
      return null
    }
    for (let i = 0; i < fb.items.length; i++) {
      const sha = fb.items[(this.index + i) % fb.items.length] as string
      if (!this.bad.has(sha) && this.cache.isReady(sha)) {
        this.index = (this.index + i + 1) % fb.items.length
        return sha
      }
    }
    return null
  }

  has(now: number): boolean {
    const saved = this.index
    const has = this.next(now) !== null
    this.index = saved
    return has
  }

  volume(): number {
    const d = this.desired()
    return d?.fallback?.volume ?? d?.volume ?? 100
  }
}
