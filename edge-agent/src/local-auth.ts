import { randomBytes } from 'node:crypto'
import { verifyPassword } from '@loa/shared/password-hash'
import { monotonicMs } from './clock.js'

/** A session lasts this long idle, and never longer than MAX_SESSION_MS. */
const IDLE_MS = 30 * 60_000
const MAX_SESSION_MS = 12 * 3600_000
const MAX_SESSIONS = 20
/** Failures from one address before it is locked out, and for how long. */
const FAILS_PER_CLIENT = 5
const FAILS_GLOBAL = 20
const FAIL_WINDOW_MS = 15 * 60_000
const LOCK_MS = 5 * 60_000

export type LoginResult =
  | { ok: true; token: string }
  | { ok: false; reason: 'not-configured' | 'wrong-password' | 'locked'; retryAfterS?: number }

interface Failures {
  count: number
  first: number
  lockedUntil: number
}

/**
 * The technician's sessions: one password per device (an scrypt hash in the config), random 256-bit session
 * tokens held only in memory (a restart logs everybody out, which is fine on a box). Wrong passwords lock the
 * address out after 5 tries in 15 minutes, and everybody after 20, for 5 minutes, so guessing is hopeless while
 * the technician standing at the box is only briefly inconvenienced by someone else's attempts.
 */
export class TechnicianAuth {
  private readonly sessions = new Map<string, { created: number; seen: number }>()
  private readonly fails = new Map<string, Failures>()
  private global: Failures = { count: 0, first: 0, lockedUntil: 0 }

  constructor(
    private readonly passwordHash: () => string | undefined,
    /** Monotonic by default: sessions and lockouts are durations, not instants (a clock step changes neither). */
    private readonly now: () => number = monotonicMs,
  ) {}

  get configured(): boolean {
    return !!this.passwordHash()
  }

  private lockedFor(f: Failures | undefined, t: number): number {
    return f && f.lockedUntil > t ? Math.ceil((f.lockedUntil - t) / 1000) : 0
  }

  private fail(f: Failures, t: number, limit: number): void {
    if (t - f.first > FAIL_WINDOW_MS) {
      f.count = 0
      f.first = t
    }
    if (++f.count >= limit) {
      f.lockedUntil = t + LOCK_MS
      f.count = 0
      f.first = t
    }
  }

  async login(password: string, client: string): Promise<LoginResult> {
    const hash = this.passwordHash()
    if (!hash) return { ok: false, reason: 'not-configured' }
    const t = this.now()
    const locked = Math.max(this.lockedFor(this.fails.get(client), t), this.lockedFor(this.global, t))
    if (locked > 0) return { ok: false, reason: 'locked', retryAfterS: locked }
    if (!(await verifyPassword(password, hash))) {
      let f = this.fails.get(client)
      if (!f) {
        // Bound the map: a flood of addresses cannot grow it without end.
        if (this.fails.size > 1000) this.fails.clear()
        f = { count: 0, first: t, lockedUntil: 0 }
        this.fails.set(client, f)
      }
      this.fail(f, t, FAILS_PER_CLIENT)
      this.fail(this.global, t, FAILS_GLOBAL)
      const now = this.lockedFor(f, t) || this.lockedFor(this.global, t)
      return now > 0
        ? { ok: false, reason: 'locked', retryAfterS: now }
        : { ok: false, reason: 'wrong-password' }
    }
    this.fails.delete(client)
    this.prune(t)
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = [...this.sessions.entries()].sort((a, b) => a[1].seen - b[1].seen)[0]
      if (oldest) this.sessions.delete(oldest[0])
    }
    const token = randomBytes(32).toString('base64url')
    this.sessions.set(token, { created: t, seen: t })
    return { ok: true, token }
  }

  /** Whether the token is a live session; touches it. */
  check(token: string | undefined): boolean {
    if (!token) return false
    const s = this.sessions.get(token)
    const t = this.now()
    if (!s || t - s.seen > IDLE_MS || t - s.created > MAX_SESSION_MS) {
      if (s) this.sessions.delete(token)
      return false
    }
    s.seen = t
    return true
  }

  logout(token: string | undefined): void {
    if (token) this.sessions.delete(token)
  }

  private prune(t: number): void {
    for (const [k, s] of this.sessions) {
      if (t - s.seen > IDLE_MS || t - s.created > MAX_SESSION_MS) this.sessions.delete(k)
    }
  }
}
