import { Type } from '@fastify/type-provider-typebox'
import { clusterIdsInScope, scopeUnitIds } from './access.js'
import type { App, Services } from './context.js'
import { EventSchema, PlaySchema } from './schemas.js'

const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 }))

export function registerReportRoutes(app: App, s: Services): void {
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
}
