import type { Db } from '../storage/db.js'
import type { Role } from './actor.js'
import type { Session, User, UserRecord } from './model.js'
import type { SessionRepository, UserRepository } from './repository.js'

interface UserRow {
  id: string
  username: string
  display_name: string
  role: string
  scope_unit_id: string | null
  password_hash: string
  disabled: number
  failed_logins: number
  locked_until: string | null
  created_at: string
  updated_at: string
  last_login_at: string | null
}

const toUser = (r: UserRow): UserRecord => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  role: r.role as Role,
  scopeUnitId: r.scope_unit_id,
  passwordHash: r.password_hash,
  disabled: r.disabled === 1,
  failedLogins: r.failed_logins,
  lockedUntil: r.locked_until,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastLoginAt: r.last_login_at,
})

/** The public view: everything but the hash. */
export const publicUser = ({ passwordHash: _, ...u }: UserRecord): User => u

const COLUMNS = {
  displayName: 'display_name',
  role: 'role',
  scopeUnitId: 'scope_unit_id',
  disabled: 'disabled',
  passwordHash: 'password_hash',
} as const

export function sqliteUsers(db: Db): UserRepository {
  const byId = db.prepare('SELECT * FROM users WHERE id = ?')
  const byKey = db.prepare('SELECT * FROM users WHERE username_key = ?')
  const reserveAttempt = db.prepare(
    `UPDATE users SET failed_logins = CASE WHEN locked_until IS NULL THEN failed_logins + 1 ELSE 1 END,
       locked_until = NULL
     WHERE id = @id AND (locked_until IS NULL AND failed_logins < @threshold OR locked_until <= @now)
     RETURNING id`,
  )
  const lockAttempt = db.prepare(
    `UPDATE users SET locked_until = @lockedUntil, failed_logins = 0
     WHERE id = @id AND locked_until IS NULL AND failed_logins >= @threshold RETURNING id`,
  )
  const clearAttempts = db.prepare(
    `UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = @now
     WHERE id = @id AND (locked_until IS NULL OR locked_until <= @now) RETURNING id`,
  )
  const get = (id: string) => {
    const r = byId.get(id) as UserRow | undefined
    return r ? toUser(r) : null
  }
  return {
    async create(u) {
      const now = new Date().toISOString()
      db.prepare(
        `INSERT INTO users (id, username, username_key, display_name, role, scope_unit_id, password_hash,
           created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        u.id,
        u.username,
        u.username.toLowerCase(),
        u.displayName,
        u.role,
        u.scopeUnitId,
        u.passwordHash,
        now,
        now,
      )
      return publicUser(get(u.id) as UserRecord)
    },
    async get(id) {
      return get(id)
    },
    async getByUsername(username) {
      const r = byKey.get(username.toLowerCase()) as UserRow | undefined
      return r ? toUser(r) : null
    },
    async list() {
      return (db.prepare('SELECT * FROM users ORDER BY username_key').all() as UserRow[]).map((r) =>
        publicUser(toUser(r)),
      )
    },
    async update(id, patch) {
      const sets: string[] = []
      const values: unknown[] = []
      for (const [key, column] of Object.entries(COLUMNS)) {
        const v = patch[key as keyof typeof patch]
        if (v === undefined) continue
        sets.push(`${column} = ?`)
        values.push(typeof v === 'boolean' ? Number(v) : v)
      }
      if (sets.length > 0) {
        sets.push('updated_at = ?')
        values.push(new Date().toISOString())
        // A re-enabled account or a reset password starts without failures.
        if (patch.passwordHash !== undefined || patch.disabled === false)
          sets.push('failed_logins = 0, locked_until = NULL')
        db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`).run(...values, id)
      }
      const u = get(id)
      return u ? publicUser(u) : null
    },
    // Times are ISO strings from toISOString(): they compare as text in time order.
    async reserveLoginAttempt(id, now, threshold) {
      return reserveAttempt.get({ id, now, threshold }) !== undefined
    },
    async failLoginAttempt(id, threshold, lockedUntil) {
      return lockAttempt.get({ id, threshold, lockedUntil }) !== undefined
    },
    async succeedLoginAttempt(id, now) {
      return clearAttempts.get({ id, now }) !== undefined
    },
    async countActiveAdmins() {
      const r = db
        .prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'province-admin' AND disabled = 0")
        .get() as { n: number }
      return r.n
    },
  }
}

interface SessionRow {
  token_hash: string
  user_id: string
  created_at: string
  last_seen_at: string
  expires_at: string
  ip: string | null
}

export function sqliteSessions(db: Db): SessionRepository {
  return {
    async create(s) {
      db.prepare(
        'INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(s.tokenHash, s.userId, s.createdAt, s.lastSeenAt, s.expiresAt, s.ip)
    },
    async get(tokenHash) {
      const r = db.prepare('SELECT * FROM sessions WHERE token_hash = ?').get(tokenHash) as
        | SessionRow
        | undefined
      if (!r) return null
      const s: Session = {
        tokenHash: r.token_hash,
        userId: r.user_id,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at,
        expiresAt: r.expires_at,
        ip: r.ip,
      }
      return s
    },
    async touch(tokenHash, at) {
      db.prepare('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?').run(at, tokenHash)
    },
    async delete(tokenHash) {
      db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash)
    },
    async deleteForUser(userId, keep) {
      return db
        .prepare('DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?')
        .run(userId, keep ?? null).changes
    },
    async deleteExpired(idleBefore, now) {
      return db.prepare('DELETE FROM sessions WHERE last_seen_at < ? OR expires_at <= ?').run(idleBefore, now)
        .changes
    },
  }
}
