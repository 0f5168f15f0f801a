import type { ApiToken, ApiTokenRecord, AuditEntry, AuditQuery, Session, User, UserRecord } from './model.js'

/** Storage of accounts, sessions, API tokens and the audit log, storage-neutral like repositories.ts. */

export type NewUser = Pick<
  UserRecord,
  'id' | 'username' | 'displayName' | 'role' | 'scopeUnitId' | 'passwordHash'
>
export type UserPatch = Partial<
  Pick<UserRecord, 'displayName' | 'role' | 'scopeUnitId' | 'disabled' | 'passwordHash'>
>

export interface UserRepository {
  create(u: NewUser): Promise<User>
  get(id: string): Promise<UserRecord | null>
  /** Case-insensitive. */
  getByUsername(username: string): Promise<UserRecord | null>
  list(): Promise<User[]>
  update(id: string, patch: UserPatch): Promise<User | null>
  /**
   * Before the password is hashed: counts the attempt as a failure, in one atomic step, unless the account is
   * locked or already has `threshold` failures and attempts in progress (false: refuse without hashing). A lock
   * that has run out starts a fresh count. Parallel attempts therefore cannot all pass a check made before any
   * of them is counted (docs/users-and-roles.md, "Brute force").
   */
  reserveLoginAttempt(id: string, now: string, threshold: number): Promise<boolean>
  /** The reserved attempt failed: locks the account until `lockedUntil` if it reached `threshold` (true then). */
  failLoginAttempt(id: string, threshold: number, lockedUntil: string): Promise<boolean>
  /** The reserved attempt succeeded: clears the count, unless a lock came meanwhile (false: refuse the login). */
  succeedLoginAttempt(id: string, now: string): Promise<boolean>
  /** Enabled province administrators. */
  countActiveAdmins(): Promise<number>
}

export interface SessionRepository {
  create(s: Session): Promise<void>
  get(tokenHash: string): Promise<Session | null>
  touch(tokenHash: string, at: string): Promise<void>
  delete(tokenHash: string): Promise<void>
  /** Every session of a user, except `keep` (the one changing its password). */
  deleteForUser(userId: string, keep?: string): Promise<number>
  deleteExpired(idleBefore: string, now: string): Promise<number>
}

export interface ApiTokenRepository {
  create(t: Omit<ApiTokenRecord, 'createdAt' | 'lastUsedAt' | 'revokedAt'>): Promise<ApiToken>
  get(id: string): Promise<ApiTokenRecord | null>
  list(): Promise<ApiToken[]>
  revoke(id: string, at: string): Promise<boolean>
  touch(id: string, at: string): Promise<void>
  /** Replaces secret, role and scope and clears a revocation (the bootstrap token). */
  reset(t: Pick<ApiTokenRecord, 'id' | 'name' | 'role' | 'scopeUnitId' | 'secretHash'>): Promise<void>
}

export interface AuditRepository {
  insert(e: Omit<AuditEntry, 'id'>): Promise<void>
  query(q: AuditQuery): Promise<{ entries: AuditEntry[]; total: number }>
}

export interface AuthRepositories {
  users: UserRepository
  sessions: SessionRepository
  apiTokens: ApiTokenRepository
  audit: AuditRepository
}
