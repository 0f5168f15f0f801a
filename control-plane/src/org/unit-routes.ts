import { randomUUID } from 'node:crypto'
import { Type } from '@fastify/type-provider-typebox'
import { DailyWindow, DESIRED_LIMITS, EntityId, Percent, windowProblems } from '@loa/shared'
import { filterUnits, scopeUnitIds } from '../access/policy.js'
import { assertUnitInScope } from '../access/request-policy.js'
import { visibleBulletin } from '../access/scope-refs.js'
import type { App, Services } from '../context.js'
import { forbidden, invalid, LoaError, notFound } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import { loaPlugin } from '../server/plugin.js'
import { UnitSchema } from '../server/schemas.js'

const UnitBody = Type.Object(
  {
    id: EntityId,
    name: PlainText({ minLength: 1, maxLength: 200 }),
    kind: PlainText({ minLength: 1, maxLength: 40 }),
    parentId: Type.Optional(Type.Union([EntityId, Type.Null()])),
    code: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
)
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

const FallbackBody = Type.Object(
  {
    bulletinIds: Type.Array(EntityId, { minItems: 1, maxItems: DESIRED_LIMITS.fallbackItems }),
    windows: Type.Array(DailyWindow, { maxItems: DESIRED_LIMITS.fallbackWindows }),
    volume: Type.Optional(Percent),
  },
  { additionalProperties: false },
)

/** What unit routes use of the services (app.ts passes exactly these). */
export type UnitRoutesDeps = Pick<Services, 'desired' | 'repos'>

export function registerUnitRoutes(app: App, s: UnitRoutesDeps): void {
  const { units, stations, fallbacks } = s.repos

  app.post(
    '/api/units',
    {
      schema: { tags: ['units'], body: UnitBody, response: { 201: UnitSchema } },
      config: { permission: 'admin-devices', audit: 'unit.create' },
    },
    async (req, reply) => {
      const b = req.body
      const parentId = b.parentId ?? null
      if (parentId === null) {
        if ((await scopeUnitIds(s, req.actor)) !== null)
          throw forbidden('parentId: only a whole-tree admin adds a root')
      } else await assertUnitInScope(s, req, parentId)
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
    {
      schema: { tags: ['units'], response: { 200: Type.Object({ units: Type.Array(UnitSchema) }) } },
      config: { permission: 'read' },
    },
    async (req) => {
      const scope = await scopeUnitIds(s, req.actor)
      const all = await units.list()
      return { units: scope === null ? all : all.filter((u) => scope.has(u.id)) }
    },
  )

  app.get(
    '/api/units/:id',
    { schema: { tags: ['units'], params: IdParams }, config: { permission: 'read' } },
    async (req) => {
      await assertUnitInScope(s, req, req.params.id, 'read')
      const unit = await units.get(req.params.id)
      if (!unit) throw notFound('unit', req.params.id)
      return unit
    },
  )

  app.put(
    '/api/units/:id/fallback',
    {
      schema: { tags: ['units'], params: IdParams, body: FallbackBody },
      config: { permission: 'content', audit: 'fallback.put' },
    },
    async (req) => {
      const unitId = req.params.id
      await assertUnitInScope(s, req, unitId, 'read')
      if (!(await units.get(unitId))) throw notFound('unit', unitId)
      const b = req.body
      for (const [i, id] of b.bulletinIds.entries()) {
        if (!(await visibleBulletin(s, req.actor, id)))
          throw invalid(`bulletinIds[${i}]`, `bulletin "${id}" not found`)
      }
      for (const [i, w] of b.windows.entries()) {
        const problems = windowProblems(w, `windows[${i}]`)
        if (problems[0]) throw new LoaError('LOA_VALIDATION', problems[0])
      }
      const previous = await fallbacks.get(unitId)
      const f = await fallbacks.put({
        unitId,
        bulletinIds: b.bulletinIds,
        windows: b.windows,
        volume: b.volume ?? null,
      })
      await s.desired.admit({ units: [unitId] }, () =>
        previous ? fallbacks.put(previous) : fallbacks.delete(unitId),
      )
      return f
    },
  )

  app.get(
    '/api/units/:id/fallback',
    { schema: { tags: ['units'], params: IdParams }, config: { permission: 'read' } },
    async (req) => {
      await assertUnitInScope(s, req, req.params.id, 'read')
      const f = await fallbacks.get(req.params.id)
      if (!f) throw notFound('fallback of unit', req.params.id)
      return f
    },
  )

  app.delete(
    '/api/units/:id/fallback',
    {
      schema: { tags: ['units'], params: IdParams },
      config: { permission: 'content', audit: 'fallback.delete' },
    },
    async (req, reply) => {
      await assertUnitInScope(s, req, req.params.id, 'read')
      if (!(await fallbacks.delete(req.params.id))) throw notFound('fallback of unit', req.params.id)
      await s.desired.changed({ units: [req.params.id] })
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
            name: PlainText({ minLength: 1, maxLength: 200 }),
            unitId: EntityId,
            id: Type.Optional(EntityId),
          },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'admin-devices', audit: 'station.create' },
    },
    async (req, reply) => {
      await assertUnitInScope(s, req, req.body.unitId)
      if (!(await units.get(req.body.unitId))) throw invalid('unitId', `unit "${req.body.unitId}" not found`)
      const station = await stations.create({
        id: req.body.id ?? `st-${randomUUID().slice(0, 8)}`,
        name: req.body.name,
        unitId: req.body.unitId,
      })
      return reply.status(201).send(station)
    },
  )

  app.get(
    '/api/stations',
    { schema: { tags: ['stations'] }, config: { permission: 'read' } },
    async (req) => ({
      stations: await filterUnits(s, req.actor, await stations.list(), (st) => st.unitId),
    }),
  )
}

/** registerUnitRoutes as a Fastify plugin (server/plugin.ts). */
export const unitRoutes = loaPlugin('loa-unit-routes', registerUnitRoutes)
