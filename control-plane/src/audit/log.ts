import type { FastifyBaseLogger } from 'fastify'
import type { Actor } from '../access/actor.js'
import type { AuditRepository } from '../access/repository.js'

/** Who did it, as the audit log stores it; `anonymous` for refused unauthenticated requests. */
export type AuditActor = Pick<Actor, 'id' | 'name'> & { kind: Actor['kind'] | 'anonymous' }
export const ANONYMOUS: AuditActor = { kind: 'anonymous', id: '-', name: '-' }

/** How an actor is named in the audit log; anonymous when there is none. */
export const auditActor = (a: Actor | null | undefined): AuditActor =>
  a ? { kind: a.kind, id: a.id, name: a.name } : ANONYMOUS

export interface AuditRecord {
  actor: AuditActor
  /** e.g. `schedule.create`, `auth.login`, `cap.ingest` */
  action: string
  targetType?: string | null
  targetId?: string | null
  unitId?: string | null
  /** HTTP status, or the equivalent (200 ok, 4xx refused) for system actions. */
  outcome: number
  ip?: string | null
  details?: Record<string, unknown> | null
}

const SECRET_KEY = /pass|secret|token|authori[sz]ation|cookie|credential|key$/i
const MAX_DETAILS = 2048

/** Drops anything that looks like a secret and bounds the size, so details can never leak a credential. */
export function safeDetails(
  details: Record<string, unknown> | null | undefined,
): Record<string, unknown> | null {
  if (!details) return null
  const clean = (v: unknown, depth: number): unknown => {
    if (depth > 4) return '…'
    if (Array.isArray(v)) return v.slice(0, 50).map((x) => clean(x, depth + 1))
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) if (!SECRET_KEY.test(k)) out[k] = clean(x, depth + 1)
      return out
    }
    return typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v
  }
  const out = clean(details, 0) as Record<string, unknown>
  return JSON.stringify(out).length > MAX_DETAILS ? { truncated: true } : out
}

/** The audit log service: `services.audit.record(...)` from routes, hooks and system code (CAP ingest, alerts). */
export class AuditLog {
  constructor(
    private readonly repo: AuditRepository,
    private readonly log: FastifyBaseLogger | { error(obj: object, msg: string): void },
  ) {}

  /** Never throws: a failing audit write is logged, the action it describes has already happened. */
  async record(r: AuditRecord): Promise<void> {
    try {
      await this.repo.insert({
        at: new Date().toISOString(),
        actorKind: r.actor.kind,
        actorId: r.actor.id,
        actorName: r.actor.name,
        action: r.action,
        targetType: r.targetType ?? null,
        targetId: r.targetId ?? null,
        unitId: r.unitId ?? null,
        outcome: r.outcome,
        ip: r.ip ?? null,
        details: safeDetails(r.details),
      })
    } catch (err) {
      this.log.error({ err: (err as Error).message, action: r.action }, 'audit write failed')
    }
  }
}
