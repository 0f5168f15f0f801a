import { scopeUnitIds } from '../../access/policy.js'
import type { App, Services } from '../../context.js'
import { forbidden, LoaError } from '../../server/errors.js'
import { loaPlugin } from '../../server/plugin.js'
import { ingestCap } from './ingest.js'

/** CAP documents with an inline audio resource can be large; anything beyond this is refused (413). */
const CAP_BODY_LIMIT = 16 * 1024 * 1024
const CAP_TYPES = ['application/xml', 'text/xml', 'application/cap+xml']

/** What the CAP routes use of the services (app.ts passes exactly these). */
export type CapRoutesDeps = Pick<Services, 'alerts' | 'config' | 'lanes' | 'repos' | 'speech'>

export function registerCapRoutes(app: App, s: CapRoutesDeps): void {
  // In its own scope so XML is accepted on this route only.
  app.register(async (scope) => {
    scope.addContentTypeParser(
      CAP_TYPES,
      { parseAs: 'string', bodyLimit: CAP_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    )
    scope.post(
      '/api/cap',
      {
        bodyLimit: CAP_BODY_LIMIT,
        schema: {
          tags: ['alerts'],
          consumes: CAP_TYPES,
          description: 'OASIS CAP 1.2 alert (Alert, Update, Cancel); see docs/alerts.md',
        },
        config: { permission: 'emergency', audit: 'cap.ingest' },
      },
      async (req, reply) => {
        // A CAP area can name any place of the province: feeds need a whole-tree token.
        if ((await scopeUnitIds(s, req.actor)) !== null)
          throw forbidden('CAP ingest needs an unrestricted scope')
        // JSON (or anything else the app parses) is not CAP.
        if (typeof req.body !== 'string') {
          throw new LoaError(
            'LOA_UNSUPPORTED_MEDIA_TYPE',
            `content-type: expected one of ${CAP_TYPES.join(', ')}`,
          )
        }
        const { status, ...body } = await ingestCap(s, req.body)
        return reply.status(status).send(body)
      },
    )
  })
}

/** registerCapRoutes as a Fastify plugin (server/plugin.ts). */
export const capRoutes = loaPlugin('loa-cap-routes', registerCapRoutes)
