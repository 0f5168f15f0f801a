import { Type } from '@fastify/type-provider-typebox'
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
    },
    async (req) => {
      const q = req.query
      const plays = await ingest.listPlays({
        clusterIds: q.clusterId !== undefined ? [q.clusterId] : undefined,
        unitIds: q.unitId !== undefined ? await units.subtreeIds(q.unitId) : undefined,
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
    },
    async (req) => ({
      events: await ingest.listEvents({
        clusterId: req.query.clusterId,
        kind: req.query.kind,
        limit: req.query.limit ?? 1000,
      }),
    }),
  )
}
