import { randomUUID } from 'node:crypto'
import { Type } from '@fastify/type-provider-typebox'
import { DailyWindow, EntityId, Percent, windowProblems } from '@loa/shared'
import type { App, Services } from './context.js'
import { invalid, LoaError, notFound } from './errors.js'
import { UnitSchema } from './schemas.js'

const UnitBody = Type.Object(
  {
    id: EntityId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    kind: Type.String({ minLength: 1, maxLength: 40 }),
    parentId: Type.Optional(Type.Union([EntityId, Type.Null()])),
    code: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
)
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

const FallbackBody = Type.Object(
  {
    bulletinIds: Type.Array(EntityId, { minItems: 1, maxItems: 200 }),
    windows: Type.Array(DailyWindow, { maxItems: 48 }),
    volume: Type.Optional(Percent),
  },
  { additionalProperties: false },
)

export function registerUnitRoutes(app: App, s: Services): void {
  const { units, stations, fallbacks, content } = s.repos

  app.post(
    '/api/units',
    { schema: { tags: ['units'], body: UnitBody, response: { 201: UnitSchema } } },
    async (req, reply) => {
      const b = req.body
      const parentId = b.parentId ?? null
      if (parentId !== null && !(await units.get(parentId)))
        throw invalid('parentId', `unit "${parentId}" not found`)
      if (await units.get(b.id)) throw new LoaError('LOA_CONFLICT', `id: unit "${b.id}" already exists`)
      const unit = await units.create({
        id: b.id,
        name: b.name,
        kind: b.kind,
        parentId,
        code: b.code ?? null,
      })
      return reply.status(201).send(unit)
    },
  )

  app.get(
    '/api/units',
    { schema: { tags: ['units'], response: { 200: Type.Object({ units: Type.Array(UnitSchema) }) } } },
    async () => ({ units: await units.list() }),
  )

  app.get('/api/units/:id', { schema: { tags: ['units'], params: IdParams } }, async (req) => {
    const unit = await units.get(req.params.id)
    if (!unit) throw notFound('unit', req.params.id)
    return unit
  })

  app.put(
    '/api/units/:id/fallback',
    { schema: { tags: ['units'], params: IdParams, body: FallbackBody } },
    async (req) => {
      const unitId = req.params.id
      if (!(await units.get(unitId))) throw notFound('unit', unitId)
      const b = req.body
      for (const [i, id] of b.bulletinIds.entries()) {
        if (!(await content.getBulletin(id))) throw invalid(`bulletinIds[${i}]`, `bulletin "${id}" not found`)
      }
      for (const [i, w] of b.windows.entries()) {
        const problems = windowProblems(w, `windows[${i}]`)
        if (problems[0]) throw new LoaError('LOA_VALIDATION', problems[0])
      }
      const f = await fallbacks.put({
        unitId,
        bulletinIds: b.bulletinIds,
        windows: b.windows,
        volume: b.volume ?? null,
      })
      await s.desired.changed()
      return f
    },
  )

  app.get('/api/units/:id/fallback', { schema: { tags: ['units'], params: IdParams } }, async (req) => {
    const f = await fallbacks.get(req.params.id)
    if (!f) throw notFound('fallback of unit', req.params.id)
    return f
  })

  app.delete(
    '/api/units/:id/fallback',
    { schema: { tags: ['units'], params: IdParams } },
    async (req, reply) => {
      if (!(await fallbacks.delete(req.params.id))) throw notFound('fallback of unit', req.params.id)
      await s.desired.changed()
      return reply.status(204).send()
    },
  )

  app.post(
    '/api/stations',
    {
      schema: {
        tags: ['stations'],
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            unitId: EntityId,
            id: Type.Optional(EntityId),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      if (!(await units.get(req.body.unitId))) throw invalid('unitId', `unit "${req.body.unitId}" not found`)
      const station = await stations.create({
        id: req.body.id ?? `st-${randomUUID().slice(0, 8)}`,
        name: req.body.name,
        unitId: req.body.unitId,
      })
      return reply.status(201).send(station)
    },
  )

  app.get('/api/stations', { schema: { tags: ['stations'] } }, async () => ({
    stations: await stations.list(),
  }))
}
