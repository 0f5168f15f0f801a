import type { Logger } from 'pino'

const WINDOW_MS = 60_000
const MAX_ADDRESSES = 1000
const TOP_ADDRESSES = 5

export interface RefusalLine {
  action: string
  reason: string
  address?: string
}

/**
 * Broker refusals as log lines, at most `perMinute` one by one; beyond that a flood is summed up once a minute
 * (how many, by action/reason, and the busiest addresses), so 2,000 failed logins make a few lines, not 2,000.
 * The metric and the device events count every refusal regardless.
 */
export class RefusalLog {
  private windowStart = Number.NEGATIVE_INFINITY
  private logged = 0
  private suppressed = 0
  private byReason = new Map<string, number>()
  private byAddress = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly o: { log: Logger; perMinute: number; now?: () => number }) {}

  private now(): number {
    return this.o.now?.() ?? Date.now()
  }

  warn(line: RefusalLine, message: string): void {
    const now = this.now()
    if (now - this.windowStart >= WINDOW_MS) {
      this.flush()
      this.windowStart = now
      this.logged = 0
    }
    if (this.logged < this.o.perMinute) {
      this.logged++
      this.o.log.warn(line, message)
      return
    }
    this.suppressed++
    const reason = `${line.action}/${line.reason}`
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1)
    if (line.address && (this.byAddress.has(line.address) || this.byAddress.size < MAX_ADDRESSES)) {
      this.byAddress.set(line.address, (this.byAddress.get(line.address) ?? 0) + 1)
    }
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.windowStart + WINDOW_MS - now))
      this.timer.unref()
    }
  }

  /** Logs the summary of what was not logged one by one (also on close). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.suppressed === 0) return
    const topAddresses = [...this.byAddress]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_ADDRESSES)
      .map(([address, count]) => ({ address, count }))
    this.o.log.warn(
      { suppressed: this.suppressed, byReason: Object.fromEntries(this.byReason), topAddresses },
      `broker refused ${this.suppressed} more connections, publishes or subscriptions (not logged one by one)`,
    )
    this.suppressed = 0
    this.byReason = new Map()
    this.byAddress = new Map()
  }
}
