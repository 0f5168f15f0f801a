import { Type } from '@fastify/type-provider-typebox'
import { DateTime } from 'luxon'
import { clusterIdsInScope, scopeUnitIds } from '../access/policy.js'
import { assertUnitInScope } from '../access/request-policy.js'
import type { App, Services } from '../context.js'
import { LoaError } from '../server/errors.js'
import { loaPlugin } from '../server/plugin.js'
import { EventSchema, PlaySchema } from '../server/schemas.js'
import { reportCsv } from './csv.js'
import { parsePeriod } from './period.js'
import { buildReport } from './reports.js'

const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 }))

/** What report routes use of the services (app.ts passes exactly these). */
export type ReportRoutesDeps = Pick<Services, 'config' | 'repos'>

export function registerReportRoutes(app: App, s: ReportRoutesDeps): void {
  const { ingest, units } = s.repos

  app.get(
    '/api/plays',
    {
      schema: {
        tags: ['reports'],
        querystring: Type.Object({
          clusterId: Type.Optional(Type.String({ maxLength: 64 })),
          unitId: Type.Optional(Type.String({ maxLength: 64 })),
          scheduleId: Type.Optional(Type.String({ maxLength: 64 })),
          since: Type.Optional(Type.String({ format: 'date-time' })),
          limit: Limit,
        }),
        response: { 200: Type.Object({ plays: Type.Array(PlaySchema) }) },
      },
      config: { permission: 'read' },
    },
    async (req) => {
      const q = req.query
      const scope = await scopeUnitIds(s, req.actor)
      let unitIds = q.unitId !== undefined ? await units.subtreeIds(q.unitId) : undefined
      // A scoped reader sees the plays of its subtree only, whatever it asks for.
      if (scope !== null) unitIds = (unitIds ?? [...scope]).filter((u) => scope.has(u))
      const plays = await ingest.listPlays({
        clusterIds: q.clusterId !== undefined ? [q.clusterId] : undefined,
        unitIds,
        scheduleId: q.scheduleId,
        since: q.since !== undefined ? new Date(q.since).toISOString() : undefined,
        limit: q.limit ?? 1000,
      })
      return { plays }
    },
  )

  app.get(
    '/api/events',
    {
      schema: {
        tags: ['reports'],
        querystring: Type.Object({
          clusterId: Type.Optional(Type.String({ maxLength: 64 })),
          kind: Type.Optional(Type.String({ maxLength: 64 })),
          limit: Limit,
        }),
        response: { 200: Type.Object({ events: Type.Array(EventSchema) }) },
      },
      config: { permission: 'read' },
    },
    async (req) => ({
      events: await ingest.listEvents({
        clusterId: req.query.clusterId,
        clusterIds: await clusterIdsInScope(s, req.actor).then((ids) =>
          ids === null ? undefined : [...ids],
        ),
        kind: req.query.kind,
        limit: req.query.limit ?? 1000,
      }),
    }),
  )

  const PeriodQuery = Type.Object({
    unitId: Type.String({ maxLength: 64 }),
    from: Type.String({ maxLength: 40 }),
    to: Type.String({ maxLength: 40 }),
  })
  const YearQuery = Type.Object({
    unitId: Type.String({ maxLength: 64 }),
    year: Type.Integer({ minimum: 2000, maximum: 2100 }),
  })
  const period = (q: { from: string; to: string }) =>
    parsePeriod(q, s.config.timezone, 'LOA_REPORT_INVALID', {
      maxDays: 366,
      defaultDays: 1,
      toInclusiveDate: true,
    })
  const year = (y: number) => {
    const from = DateTime.fromObject({ year: y, month: 1, day: 1 }, { zone: s.config.timezone })
    if (from.toMillis() > Date.now()) throw new LoaError('LOA_REPORT_INVALID', `year: ${y} has not begun`)
    return { from: from.toJSDate(), to: from.plus({ years: 1 }).toJSDate() }
  }
  const csv = (name: string, body: string) => ({
    type: 'text/csv; charset=utf-8',
    disposition: `attachment; filename="${name}.csv"`,
    body,
  })

  app.get(
    '/api/reports',
    { schema: { tags: ['reports'], querystring: PeriodQuery }, config: { permission: 'read' } },
    async (req) => {
      await assertUnitInScope(s, req, req.query.unitId, 'read')
      const { from, to } = period(req.query)
      return buildReport(s, req.query.unitId, from, to)
    },
  )

  app.get(
    '/api/reports.csv',
    { schema: { tags: ['reports'], querystring: PeriodQuery }, config: { permission: 'read' } },
    async (req, reply) => {
      await assertUnitInScope(s, req, req.query.unitId, 'read')
      const { from, to } = period(req.query)
      const r = buildReport(s, req.query.unitId, from, to)
      const c = csv(`bao-cao-${req.query.unitId}-${req.query.from}-${req.query.to}`, reportCsv(await r))
      return reply.type(c.type).header('Content-Disposition', c.disposition).send(c.body)
    },
  )

  app.get(
    '/api/reports/yearly',
    { schema: { tags: ['reports'], querystring: YearQuery }, config: { permission: 'read' } },
    async (req) => {
      await assertUnitInScope(s, req, req.query.unitId, 'read')
      const { from, to } = year(req.query.year)
      return buildReport(s, req.query.unitId, from, to)
    },
  )

  app.get(
    '/api/reports/yearly.csv',
    { schema: { tags: ['reports'], querystring: YearQuery }, config: { permission: 'read' } },
    async (req, reply) => {
      await assertUnitInScope(s, req, req.query.unitId, 'read')
      const { from, to } = year(req.query.year)
      const r = await buildReport(s, req.query.unitId, from, to)
      const c = csv(`bao-cao-nam-${req.query.year}-${req.query.unitId}`, reportCsv(r))
      return reply.type(c.type).header('Content-Disposition', c.disposition).send(c.body)
    },
  )
}

/** registerReportRoutes as a Fastify plugin (server/plugin.ts). */
export const reportRoutes = loaPlugin('loa-report-routes', registerReportRoutes)
