/**
 * Which refusals become `message-rejected` events: at most `perCode` per code per minute, so a flood of one
 * reason (replays, forged signatures, junk on a topic) never crowds out another (a state too large, an unknown
 * key). The number left out since the last one reported of that code travels with the next one.
 */
export class RejectLimiter {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>()

  constructor(
    private readonly perCode = 10,
    private readonly windowMs = 60_000,
    /** Codes tracked at once; more (only possible with codes made up on the fly) start the count afresh. */
    private readonly maxCodes = 256,
    private readonly now: () => number = Date.now,
  ) {}

  /** Null: leave this one out. Otherwise report it, with how many of its code were left out before it. */
  admit(code: string): { suppressed: number } | null {
    const t = this.now()
    let w = this.windows.get(code)
    if (!w || t - w.start > this.windowMs) {
      if (!w && this.windows.size >= this.maxCodes) this.windows.clear()
      w = { start: t, count: 0, suppressed: w?.suppressed ?? 0 }
      this.windows.set(code, w)
    }
    if (++w.count > this.perCode) {
      w.suppressed++
      return null
    }
    const suppressed = w.suppressed
    w.suppressed = 0
    return { suppressed }
  }
}
