import { Type } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { AuditEntry, AuditQuery } from '../access/model.js'
import { scopeUnitIds } from '../access/policy.js'
import type { App, Services } from '../context.js'
import { csvCell } from '../reports/csv-cell.js'
import { loaPlugin } from '../server/plugin.js'

const AuditFilter = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  actor: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ maxLength: 100 })),
  unit: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
})
type Filter = {
  from?: string
  to?: string
  actor?: string
  action?: string
  unit?: string
  limit?: number
  offset?: number
}

const CSV_MAX_ROWS = 100_000
const CSV_COLUMNS: (keyof AuditEntry)[] = [
  'id',
  'at',
  'actorKind',
  'actorId',
  'actorName',
  'action',
  'targetType',
  'targetId',
  'unitId',
  'outcome',
  'ip',
  'details',
]

/** What audit routes use of the services (app.ts passes exactly these). */
export type AuditRoutesDeps = Pick<Services, 'repos'>

/**
 * The audit log (docs/users-and-roles.md): permission `audit` (every role but viewer). A scoped reader sees the
 * entries about units of its subtree and its own actions.
 */
export function registerAuditRoutes(app: App, s: AuditRoutesDeps): void {
  const query = async (
    req: FastifyRequest,
    f: Filter,
    limit: number,
    offset: number,
  ): Promise<AuditQuery> => {
    const scope = await scopeUnitIds(s, req.actor)
    const q: AuditQuery = { limit, offset }
    if (f.from) q.from = new Date(f.from).toISOString()
    if (f.to) q.to = new Date(f.to).toISOString()
    if (f.actor) q.actorId = f.actor
    if (f.action) q.action = f.action
    if (f.unit) q.unitIds = await s.repos.units.subtreeIds(f.unit)
    if (scope !== null) q.visibleTo = { unitIds: [...scope], actorId: req.actor.id }
    return q
  }

  app.get(
    '/api/audit',
    { schema: { tags: ['audit'], querystring: AuditFilter }, config: { permission: 'audit' } },
    async (req) => {
      const limit = req.query.limit ?? 100
      const offset = req.query.offset ?? 0
      const { entries, total } = await s.repos.audit.query(await query(req, req.query, limit, offset))
      return { entries, total, limit, offset }
    },
  )

  app.get(
    '/api/audit.csv',
    {
      schema: { tags: ['audit'], querystring: AuditFilter, produces: ['text/csv'] },
      config: { permission: 'audit', audit: 'audit.export' },
    },
    async (req, reply) => {
      const { entries } = await s.repos.audit.query(await query(req, req.query, CSV_MAX_ROWS, 0))
      const lines = [CSV_COLUMNS.join(',')]
      for (const e of entries) lines.push(CSV_COLUMNS.map((c) => csvCell(e[c])).join(','))
      reply.header('Content-Disposition', 'attachment; filename="loa-audit.csv"')
      return reply.type('text/csv; charset=utf-8').send(`${lines.join('\r\n')}\r\n`)
    },
  )
}

/** registerAuditRoutes as a Fastify plugin (server/plugin.ts). */
export const auditRoutes = loaPlugin('loa-audit-routes', registerAuditRoutes)
