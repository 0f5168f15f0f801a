import type { Role } from '../access/actor.js'
import type { ApiToken, ApiTokenRecord, AuditEntry } from '../access/model.js'
import type { ApiTokenRepository, AuditRepository } from '../access/repository.js'
import type { Db } from '../storage/db.js'

interface TokenRow {
  id: string
  name: string
  role: string
  scope_unit_id: string | null
  secret_hash: string
  created_by: string | null
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
}

const toToken = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  name: r.name,
  role: r.role as Role,
  scopeUnitId: r.scope_unit_id,
  secretHash: r.secret_hash,
  createdBy: r.created_by,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
})

export const publicToken = ({ secretHash: _, ...t }: ApiTokenRecord): ApiToken => t

export function sqliteApiTokens(db: Db): ApiTokenRepository {
  const byId = db.prepare('SELECT * FROM api_tokens WHERE id = ?')
  const get = (id: string) => {
    const r = byId.get(id) as TokenRow | undefined
    return r ? toToken(r) : null
  }
  return {
    async create(t) {
      db.prepare(
        `INSERT INTO api_tokens (id, name, role, scope_unit_id, secret_hash, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(t.id, t.name, t.role, t.scopeUnitId, t.secretHash, t.createdBy, new Date().toISOString())
      return publicToken(get(t.id) as ApiTokenRecord)
    },
    async get(id) {
      return get(id)
    },
    async list() {
      return (db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id').all() as TokenRow[]).map((r) =>
        publicToken(toToken(r)),
      )
    },
    async revoke(id, at) {
      return (
        db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id)
          .changes > 0
      )
    },
    async touch(id, at) {
      db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, id)
    },
    async reset(t) {
      db.prepare(
        `INSERT INTO api_tokens (id, name, role, scope_unit_id, secret_hash, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, 'bootstrap', ?)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, role = excluded.role,
           scope_unit_id = excluded.scope_unit_id, secret_hash = excluded.secret_hash, revoked_at = NULL`,
      ).run(t.id, t.name, t.role, t.scopeUnitId, t.secretHash, new Date().toISOString())
    },
  }
}

interface AuditRow {
  id: number
  at: string
  actor_kind: string
  actor_id: string
  actor_name: string
  action: string
  target_type: string | null
  target_id: string | null
  unit_id: string | null
  outcome: number
  ip: string | null
  details: string | null
}

const toEntry = (r: AuditRow): AuditEntry => ({
  id: r.id,
  at: r.at,
  actorKind: r.actor_kind,
  actorId: r.actor_id,
  actorName: r.actor_name,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  unitId: r.unit_id,
  outcome: r.outcome,
  ip: r.ip,
  details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
})

/** `(?, ?, ...)` for a list; SQLite accepts at most 32766 parameters, far beyond a province's units. */
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ')

export function sqliteAudit(db: Db): AuditRepository {
  const insert = db.prepare(
    `INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, target_type, target_id, unit_id, outcome,
       ip, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  return {
    async insert(e) {
      insert.run(
        e.at,
        e.actorKind,
        e.actorId,
        e.actorName,
        e.action,
        e.targetType,
        e.targetId,
        e.unitId,
        e.outcome,
        e.ip,
        e.details ? JSON.stringify(e.details) : null,
      )
    },
    async query(q) {
      const where: string[] = []
      const args: unknown[] = []
      const add = (sql: string, ...values: unknown[]) => {
        where.push(sql)
        args.push(...values)
      }
      if (q.from) add('at >= ?', q.from)
      if (q.to) add('at < ?', q.to)
      if (q.actorId) add('actor_id = ?', q.actorId)
      if (q.action) add('action = ?', q.action)
      if (q.unitIds) add(`unit_id IN (${marks(q.unitIds.length)})`, ...q.unitIds)
      if (q.visibleTo) {
        const v = q.visibleTo
        add(`(unit_id IN (${marks(v.unitIds.length)}) OR actor_id = ?)`, ...v.unitIds, v.actorId)
      }
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : ''
      const total = (
        db.prepare(`SELECT COUNT(*) AS n FROM audit_log ${clause}`).get(...args) as { n: number }
      ).n
      const rows = db
        .prepare(`SELECT * FROM audit_log ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`)
        .all(...args, q.limit, q.offset) as AuditRow[]
      return { entries: rows.map(toEntry), total }
    },
  }
}
