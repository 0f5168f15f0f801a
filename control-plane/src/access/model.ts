import type { Role } from './actor.js'

/** An operator account (docs/users-and-roles.md). Never carries the password hash outside the repository. */
export interface User {
  id: string
  username: string
  displayName: string
  role: Role
  /** Root of the administrative subtree the user may see and act on; null = the whole tree. */
  scopeUnitId: string | null
  disabled: boolean
  /** Consecutive failed logins since the last success. */
  failedLogins: number
  lockedUntil: string | null
  createdAt: string
  updatedAt: string
  lastLoginAt: string | null
}

export interface UserRecord extends User {
  passwordHash: string
}

export interface Session {
  /** SHA-256 (hex) of the cookie's token; the token itself is never stored. */
  tokenHash: string
  userId: string
  createdAt: string
  lastSeenAt: string
  /** Absolute expiry; the idle expiry is lastSeenAt + idle timeout. */
  expiresAt: string
  ip: string | null
}

export interface ApiToken {
  id: string
  name: string
  role: Role
  scopeUnitId: string | null
  createdBy: string | null
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

export interface ApiTokenRecord extends ApiToken {
  /** SHA-256 (hex) of the secret part. */
  secretHash: string
}

export interface AuditEntry {
  id: number
  at: string
  actorKind: string
  actorId: string
  actorName: string
  action: string
  targetType: string | null
  targetId: string | null
  unitId: string | null
  /** HTTP status of the request (or of the equivalent outcome for system actions). */
  outcome: number
  ip: string | null
  details: Record<string, unknown> | null
}

export interface AuditQuery {
  from?: string
  to?: string
  actorId?: string
  action?: string
  /** Only entries about these units (a subtree). */
  unitIds?: string[]
  /** Scoped readers: entries about these units, or made by this actor. */
  visibleTo?: { unitIds: string[]; actorId: string }
  limit: number
  offset: number
}
