export interface LoginThrottleOptions {
  /** Failed logins an address may make at once before it is throttled. */
  burst: number
  /** One failure is forgiven every this many ms (the bucket refills at this rate). */
  refillMs: number
  /** How long a throttled address waits for the answer to each failed login. */
  delayMs: number
  /** Refusals held back at once per address; beyond that they are answered at once. */
  maxHeldPerAddress: number
  now?: () => number
}

export interface FailureVerdict {
  /** The address had used up its failures: the refusal is counted as `throttled`. */
  throttled: boolean
  /** Hold the refusal this long before answering (0: now); call `release` after. */
  holdMs: number
}

interface Bucket {
  tokens: number
  at: number
  held: number
}

const MAX_ADDRESSES = 100_000

/**
 * Failed broker logins per source address (addressKey: IPv4, or IPv6 /64), as a token bucket. Only failures take
 * tokens, so a carrier NAT address carrying many boxes is never throttled by their logins, and every login is
 * still checked: a correct one is accepted at once even from a throttled address (a device secret is 256 random
 * bits, so checking costs a cache hit or 101 PBKDF2 rounds, and guessing gets nowhere). A throttled address's
 * failures are answered late (a guesser waiting for each answer is slowed to one per `delayMs` per connection),
 * and never flood the log (mqtt/refusal-log.ts).
 */
export class LoginThrottle {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly o: LoginThrottleOptions) {}

  private now(): number {
    return this.o.now?.() ?? Date.now()
  }

  private bucket(address: string): Bucket {
    const now = this.now()
    let b = this.buckets.get(address)
    if (!b) {
      if (this.buckets.size >= MAX_ADDRESSES) this.forgetIdle()
      b = { tokens: this.o.burst, at: now, held: 0 }
      this.buckets.set(address, b)
      return b
    }
    b.tokens = Math.min(this.o.burst, b.tokens + (now - b.at) / this.o.refillMs)
    b.at = now
    return b
  }

  /** Drops addresses that have nothing held, oldest first, until a tenth of the table is free. */
  private forgetIdle(): void {
    let drop = Math.ceil(MAX_ADDRESSES / 10)
    for (const [address, b] of this.buckets) {
      if (drop === 0) break
      if (b.held > 0) continue
      this.buckets.delete(address)
      drop--
    }
  }

  failed(address: string): FailureVerdict {
    const b = this.bucket(address)
    if (b.tokens >= 1) {
      b.tokens -= 1
      return { throttled: false, holdMs: 0 }
    }
    if (b.held >= this.o.maxHeldPerAddress || this.o.delayMs <= 0) return { throttled: true, holdMs: 0 }
    b.held++
    return { throttled: true, holdMs: this.o.delayMs }
  }

  /** A held refusal was answered. */
  release(address: string): void {
    const b = this.buckets.get(address)
    if (b && b.held > 0) b.held--
  }
}
