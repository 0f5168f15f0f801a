import { Type } from '@fastify/type-provider-typebox'
import type { App, Services } from '../context.js'
import { loaPlugin } from './plugin.js'

/** What system routes use of the services (app.ts passes exactly these). */
export type SystemRoutesDeps = Pick<Services, 'metrics' | 'mqtt' | 'repos'>

export function registerSystemRoutes(app: App, s: SystemRoutesDeps): void {
  app.get(
    '/healthz',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['system'],
        response: {
          200: Type.Object({ status: Type.String(), db: Type.String(), broker: Type.String() }),
          503: Type.Object({ status: Type.String(), db: Type.String(), broker: Type.String() }),
        },
      },
    },
    async (_req, reply) => {
      let db = 'ok'
      try {
        await s.repos.ping()
      } catch {
        db = 'error'
      }
      const broker = s.mqtt.connected ? 'connected' : 'disconnected'
      const ok = db === 'ok' && broker === 'connected'
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', db, broker })
    },
  )

  app.get(
    '/metrics',
    { schema: { tags: ['system'], produces: ['text/plain'] }, config: { permission: 'read' } },
    async (_req, reply) => {
      const text = await s.metrics.registry.metrics()
      return reply.type(s.metrics.registry.contentType).send(text)
    },
  )
}

/** registerSystemRoutes as a Fastify plugin (server/plugin.ts). */
export const systemRoutes = loaPlugin('loa-system-routes', registerSystemRoutes)
