import { Type } from '@fastify/type-provider-typebox'
import { EntityId } from '@loa/shared'
import type { FastifyRequest } from 'fastify'
import { targetsVisible } from '../access/policy.js'
import { assertClusterInScope, assertTargetsInScope, assertUnitInScope } from '../access/request-policy.js'
import type { App, Services } from '../context.js'
import { parsePeriod } from '../reports/period.js'
import { LoaError, notFound } from '../server/errors.js'
import { loaPlugin } from '../server/plugin.js'
import { buildCalendar } from './calendar.js'
import { cancelOccurrence, moveOccurrence } from './calendar-edit.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const Bound = Type.String({ maxLength: 40 })

/**
 * Editing a schedule needs its targets inside the actor's scope (a province-wide one: province users); one the
 * actor cannot see reads as unknown.
 */
async function assertScheduleInScope(
  s: Pick<Services, 'repos'>,
  req: FastifyRequest,
  id: string,
): Promise<void> {
  const sc = await s.repos.schedules.get(id)
  if (!sc || !(await targetsVisible(s, req.actor, sc.targets))) throw notFound('schedule', id)
  await assertTargetsInScope(s, req, sc.targets)
}

/** What calendar routes use of the services (app.ts passes exactly these). */
export type CalendarRoutesDeps = Pick<Services, 'config' | 'desired' | 'repos'>

export function registerCalendarRoutes(app: App, s: CalendarRoutesDeps): void {
  app.get(
    '/api/calendar',
    {
      schema: {
        tags: ['schedules'],
        querystring: Type.Object({
          unitId: Type.Optional(EntityId),
          clusterId: Type.Optional(EntityId),
          from: Type.Optional(Bound),
          to: Type.Optional(Bound),
        }),
      },
      config: { permission: 'read' },
    },
    async (req) => {
      const q = req.query
      if ((q.unitId === undefined) === (q.clusterId === undefined)) {
        throw new LoaError('LOA_CALENDAR_INVALID', 'unitId: give exactly one of unitId or clusterId')
      }
      const tz = s.config.timezone
      const { from, to } = parsePeriod(q, tz, 'LOA_CALENDAR_INVALID', { maxDays: 62, defaultDays: 7 })
      let clusterIds: string[]
      if (q.clusterId !== undefined) {
        await assertClusterInScope(s, req, q.clusterId, 'read')
        if (!(await s.repos.clusters.get(q.clusterId))) throw notFound('cluster', q.clusterId)
        clusterIds = [q.clusterId]
      } else {
        await assertUnitInScope(s, req, q.unitId as string, 'read')
        if (!(await s.repos.units.get(q.unitId as string))) throw notFound('unit', q.unitId as string)
        const units = await s.repos.units.subtreeIds(q.unitId as string)
        clusterIds = (await s.repos.clusters.list({ unitIds: units })).map((c) => c.id)
      }
      const cal = await buildCalendar(s, clusterIds, from, to)
      return {
        timezone: tz,
        from: from.toISOString(),
        to: to.toISOString(),
        clusterCount: clusterIds.length,
        ...cal,
      }
    },
  )

  app.post(
    '/api/schedules/:id/move',
    {
      schema: {
        tags: ['schedules'],
        params: IdParams,
        body: Type.Object(
          { occurrence: Bound, to: Bound, force: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'content' },
    },
    async (req) => {
      await assertScheduleInScope(s, req, req.params.id)
      return moveOccurrence(s, req.params.id, req.body)
    },
  )

  app.post(
    '/api/schedules/:id/cancel',
    {
      schema: {
        tags: ['schedules'],
        params: IdParams,
        body: Type.Optional(
          Type.Object({ occurrence: Type.Optional(Bound) }, { additionalProperties: false }),
        ),
      },
      config: { permission: 'content' },
    },
    async (req) => {
      await assertScheduleInScope(s, req, req.params.id)
      return cancelOccurrence(s, req.params.id, req.body?.occurrence)
    },
  )
}

/** registerCalendarRoutes as a Fastify plugin (server/plugin.ts). */
export const calendarRoutes = loaPlugin('loa-calendar-routes', registerCalendarRoutes)
