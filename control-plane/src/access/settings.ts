/** Session, lockout and rate-limit tuning (docs/users-and-roles.md); tests shorten them. */
export interface AuthSettings {
  /** A session unused this long expires (ms). */
  sessionIdleMs: number
  /** A session expires this long after login whatever its use (ms). */
  sessionAbsoluteMs: number
  /** Consecutive failed logins that lock an account. */
  lockoutThreshold: number
  /** How long a locked account stays locked (ms). */
  lockoutMs: number
  /** Login attempts per client IP per window. */
  loginRateMax: number
  loginRateWindowMs: number
}

export const DEFAULT_AUTH: AuthSettings = {
  sessionIdleMs: 12 * 3600_000,
  sessionAbsoluteMs: 7 * 86_400_000,
  lockoutThreshold: 5,
  lockoutMs: 15 * 60_000,
  loginRateMax: 20,
  loginRateWindowMs: 60_000,
}

export const MIN_PASSWORD_LENGTH = 10
