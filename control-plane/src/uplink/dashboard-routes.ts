import { Type } from '@fastify/type-provider-typebox'
import { EntityId } from '@loa/shared'
import { scopeUnitIds } from '../access/policy.js'
import { assertUnitInScope } from '../access/request-policy.js'
import type { App, Services } from '../context.js'
import { loaPlugin } from '../server/plugin.js'
import { buildDashboard } from './dashboard.js'

/** What dashboard routes use of the services (app.ts passes exactly these). */
export type DashboardRoutesDeps = Pick<Services, 'repos'>

export function registerDashboardRoutes(app: App, s: DashboardRoutesDeps): void {
  app.get(
    '/api/dashboard',
    {
      schema: {
        tags: ['dashboard'],
        querystring: Type.Object({
          unitId: Type.Optional(EntityId),
          offlineAfterMin: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 1440 })),
          faultWindowH: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 30 })),
        }),
      },
      config: { permission: 'read' },
    },
    async (req) => {
      if (req.query.unitId !== undefined) await assertUnitInScope(s, req, req.query.unitId, 'read')
      // A scoped user's dashboard is its own subtree.
      const scoped = (await scopeUnitIds(s, req.actor)) !== null
      return buildDashboard(s, {
        unitId: req.query.unitId ?? (scoped ? (req.actor.scopeUnitId ?? undefined) : undefined),
        offlineAfterMin: req.query.offlineAfterMin ?? 30,
        faultWindowH: req.query.faultWindowH ?? 24,
      })
    },
  )
}

/** registerDashboardRoutes as a Fastify plugin (server/plugin.ts). */
export const dashboardRoutes = loaPlugin('loa-dashboard-routes', registerDashboardRoutes)
