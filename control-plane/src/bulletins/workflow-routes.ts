import { Type } from '@fastify/type-provider-typebox'
import { DESIRED_LIMITS, EntityId, LocalTime } from '@loa/shared'
import { filterUnits, scopeUnitIds, unitInScope } from '../access/policy.js'
import { actorOf } from '../access/request-actor.js'
import { assertUnitInScope } from '../access/request-policy.js'
import { bulletinVisible } from '../access/scope-refs.js'
import type { App, Services } from '../context.js'
import { notFound } from '../server/errors.js'
import { loaPlugin } from '../server/plugin.js'
import { acceptDelivery, declineDelivery, sendBulletin } from './inbox.js'
import type { DeliveryState } from './model.js'
import { programmeView, reorderProgramme } from './programmes.js'
import { approveBulletin, unitSettings } from './workflow.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const DeliveryStateT = Type.Union([
  Type.Literal('pending'),
  Type.Literal('accepted'),
  Type.Literal('declined'),
  Type.Literal('alerted'),
])

/** What workflow routes use of the services (app.ts passes exactly these). */
export type WorkflowRoutesDeps = Pick<Services, 'alerts' | 'config' | 'desired' | 'repos'>

/** Circular 39 workflow: approval, unit settings, sending to units below, the inbox, programmes. */
export function registerWorkflowRoutes(app: App, s: WorkflowRoutesDeps): void {
  const { content, workflow, units } = s.repos

  app.get(
    '/api/bulletins/:id',
    { schema: { tags: ['bulletins'], params: IdParams }, config: { permission: 'read' } },
    async (req) => {
      const b = await content.getBulletin(req.params.id)
      if (!b || !(await bulletinVisible(s, req.actor, b))) throw notFound('bulletin', req.params.id)
      return b
    },
  )

  app.post(
    '/api/bulletins/:id/approve',
    { schema: { tags: ['bulletins'], params: IdParams }, config: { permission: 'approve' } },
    async (req) => approveBulletin(s, req.params.id, actorOf(req)),
  )

  app.get(
    '/api/units/:id/settings',
    { schema: { tags: ['units'], params: IdParams }, config: { permission: 'read' } },
    async (req) => {
      await assertUnitInScope(s, req, req.params.id, 'read')
      if (!(await units.get(req.params.id))) throw notFound('unit', req.params.id)
      return unitSettings(s, req.params.id)
    },
  )

  app.put(
    '/api/units/:id/settings',
    {
      schema: {
        tags: ['units'],
        params: IdParams,
        body: Type.Object(
          {
            requiresApproval: Type.Boolean(),
            slots: Type.Optional(Type.Array(LocalTime, { minItems: 1, maxItems: 24, uniqueItems: true })),
          },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'admin-devices' },
    },
    async (req) => {
      await assertUnitInScope(s, req, req.params.id)
      if (!(await units.get(req.params.id))) throw notFound('unit', req.params.id)
      const cur = await unitSettings(s, req.params.id)
      return workflow.putSettings({
        unitId: req.params.id,
        requiresApproval: req.body.requiresApproval,
        slots: (req.body.slots ?? cur.slots).map((t) => t.slice(0, 5)).sort(),
      })
    },
  )

  app.post(
    '/api/bulletins/:id/send',
    {
      schema: {
        tags: ['inbox'],
        params: IdParams,
        body: Type.Object(
          {
            toUnitIds: Type.Array(EntityId, { minItems: 1, maxItems: 5000 }),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
            at: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'content' },
    },
    async (req, reply) =>
      reply.status(201).send(await sendBulletin(s, req.params.id, req.body, actorOf(req))),
  )

  app.get(
    '/api/bulletins/:id/deliveries',
    { schema: { tags: ['inbox'], params: IdParams }, config: { permission: 'read' } },
    async (req) => {
      const b = await content.getBulletin(req.params.id)
      if (!b || !(await bulletinVisible(s, req.actor, b))) throw notFound('bulletin', req.params.id)
      const all = await workflow.listDeliveries({ bulletinId: b.id, limit: 10_000 })
      // The sender's side sees every delivery; a unit below sees its own.
      const own = b.unitId !== null && b.unitId !== undefined && (await unitInScope(s, req.actor, b.unitId))
      return { deliveries: own ? all : await filterUnits(s, req.actor, all, (d) => d.toUnitId) }
    },
  )

  app.get(
    '/api/inbox',
    {
      schema: {
        tags: ['inbox'],
        querystring: Type.Object({
          unitId: Type.Optional(EntityId),
          state: Type.Optional(DeliveryStateT),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
        }),
      },
      config: { permission: 'read' },
    },
    async (req) => {
      const q = req.query
      if (q.unitId !== undefined) await assertUnitInScope(s, req, q.unitId, 'read')
      if (q.unitId !== undefined && !(await units.get(q.unitId))) throw notFound('unit', q.unitId)
      const scope = await scopeUnitIds(s, req.actor)
      const deliveries = await workflow.listDeliveries({
        toUnitIds: q.unitId !== undefined ? await units.subtreeIds(q.unitId) : scope ? [...scope] : undefined,
        state: q.state as DeliveryState | undefined,
        limit: q.limit ?? 500,
      })
      const bulletins = new Map<string, unknown>()
      for (const d of deliveries) {
        if (bulletins.has(d.bulletinId)) continue
        const b = await content.getBulletin(d.bulletinId)
        const m = b ? await s.repos.media.get(b.mediaSha256) : null
        bulletins.set(
          d.bulletinId,
          b
            ? {
                id: b.id,
                title: b.title,
                level: b.level,
                mediaSha256: b.mediaSha256,
                durationMs: m?.durationMs ?? 0,
                text: b.text ?? null,
              }
            : null,
        )
      }
      return { deliveries: deliveries.map((d) => ({ ...d, bulletin: bulletins.get(d.bulletinId) ?? null })) }
    },
  )

  app.post(
    '/api/inbox/:id/accept',
    {
      schema: {
        tags: ['inbox'],
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            { at: Type.Optional(Type.String({ format: 'date-time' })) },
            { additionalProperties: false },
          ),
        ),
      },
      config: { permission: 'content' },
    },
    async (req) => acceptDelivery(s, req.params.id, req.body?.at, actorOf(req)),
  )

  app.post(
    '/api/inbox/:id/decline',
    {
      schema: {
        tags: ['inbox'],
        params: IdParams,
        body: Type.Object(
          { reason: Type.String({ minLength: 1, maxLength: 1000, pattern: '\\S' }) },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'content' },
    },
    async (req) => declineDelivery(s, req.params.id, req.body.reason.trim(), actorOf(req)),
  )

  app.get(
    '/api/programmes',
    {
      schema: {
        tags: ['inbox'],
        querystring: Type.Object({
          unitId: EntityId,
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
        }),
      },
      config: { permission: 'read' },
    },
    async (req) => {
      const q = req.query
      await assertUnitInScope(s, req, q.unitId, 'read')
      if (!(await units.get(q.unitId))) throw notFound('unit', q.unitId)
      const from = q.from ? new Date(q.from) : new Date(Date.now() - 86_400_000)
      const to = q.to ? new Date(q.to) : new Date(from.getTime() + 8 * 86_400_000)
      const list = await workflow.listProgrammes({
        unitIds: await units.subtreeIds(q.unitId),
        from: from.toISOString(),
        to: to.toISOString(),
      })
      return { programmes: await Promise.all(list.map((p) => programmeView(s, p))) }
    },
  )

  app.put(
    '/api/programmes/:id/order',
    {
      schema: {
        tags: ['inbox'],
        params: IdParams,
        body: Type.Object(
          { bulletinIds: Type.Array(EntityId, { minItems: 1, maxItems: DESIRED_LIMITS.itemsPerEntry }) },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'content' },
    },
    async (req) =>
      programmeView(s, await reorderProgramme(s, req.params.id, req.body.bulletinIds, actorOf(req))),
  )
}

/** registerWorkflowRoutes as a Fastify plugin (server/plugin.ts). */
export const workflowRoutes = loaPlugin('loa-workflow-routes', registerWorkflowRoutes)
