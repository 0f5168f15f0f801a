import { randomBytes } from 'node:crypto'
import { verifyPassword } from '@loa/shared/password-hash'
import { monotonicMs } from '../clock/clock.js'

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
  /** Attempts whose password is being hashed: counted as failures until proven right. */
  pending: number
}

/**
 * The technician's sessions: one password per device (an scrypt hash in the config), random 256-bit session
 * tokens held only in memory (a restart logs everybody out, which is fine on a box). Wrong passwords lock the
 * address out after 5 tries in 15 minutes, and everybody after 20, for 5 minutes, so guessing is hopeless while
 * the technician standing at the box is only briefly inconvenienced by someone else's attempts. An attempt is
 * counted before its password is hashed (the check and the count are one synchronous step), so parallel guesses
 * cannot all slip past the limit while the hashes run.
 */
export class TechnicianAuth {
  private readonly sessions = new Map<string, { created: number; seen: number }>()
  private readonly fails = new Map<string, Failures>()
  private global: Failures = { count: 0, first: 0, lockedUntil: 0, pending: 0 }

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

  /** Seconds to wait before trying: locked, or as many attempts in progress as it takes to lock (0: go on). */
  private refusedFor(f: Failures | undefined, t: number, limit: number): number {
    const locked = this.lockedFor(f, t)
    if (locked > 0 || !f) return locked
    const count = t - f.first > FAIL_WINDOW_MS ? 0 : f.count
    return count + f.pending >= limit ? 1 : 0
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

  private clientFailures(client: string, t: number): Failures {
    let f = this.fails.get(client)
    if (!f) {
      // Bound the map: a flood of addresses cannot grow it without end (the global count still holds).
      if (this.fails.size > 1000) this.fails.clear()
      f = { count: 0, first: t, lockedUntil: 0, pending: 0 }
      this.fails.set(client, f)
    }
    return f
  }

  async login(password: string, client: string): Promise<LoginResult> {
    const hash = this.passwordHash()
    if (!hash) return { ok: false, reason: 'not-configured' }
    const t = this.now()
    // Check and count in one synchronous step, before the first await.
    const refused = Math.max(
      this.refusedFor(this.fails.get(client), t, FAILS_PER_CLIENT),
      this.refusedFor(this.global, t, FAILS_GLOBAL),
    )
    if (refused > 0) return { ok: false, reason: 'locked', retryAfterS: refused }
    const f = this.clientFailures(client, t)
    f.pending++
    this.global.pending++
    let right = false
    try {
      right = await verifyPassword(password, hash)
    } finally {
      f.pending--
      this.global.pending--
    }
    const done = this.now()
    if (!right) {
      this.fail(f, done, FAILS_PER_CLIENT)
      this.fail(this.global, done, FAILS_GLOBAL)
      const now = this.lockedFor(f, done) || this.lockedFor(this.global, done)
      return now > 0
        ? { ok: false, reason: 'locked', retryAfterS: now }
        : { ok: false, reason: 'wrong-password' }
    }
    // Right, but parallel wrong guesses locked it meanwhile: the lock wins.
    const lockedNow = this.lockedFor(f, done) || this.lockedFor(this.global, done)
    if (lockedNow > 0) return { ok: false, reason: 'locked', retryAfterS: lockedNow }
    f.count = 0
    if (f.pending === 0 && this.fails.get(client) === f) this.fails.delete(client)
    this.prune(done)
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = [...this.sessions.entries()].sort((a, b) => a[1].seen - b[1].seen)[0]
      if (oldest) this.sessions.delete(oldest[0])
    }
    const token = randomBytes(32).toString('base64url')
    this.sessions.set(token, { created: done, seen: done })
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
