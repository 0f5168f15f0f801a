import multipart from '@fastify/multipart'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import type { Logger } from 'pino'
import { registerAuth } from './access/auth-plugin.js'
import { registerAuthRoutes } from './access/auth-routes.js'
import { registerTokenRoutes } from './access/token-routes.js'
import { registerUserRoutes } from './access/user-routes.js'
import { registerCapRoutes } from './alerts/cap/routes.js'
import { registerAlertRoutes } from './alerts/routes.js'
import { registerAuditRoutes } from './audit/routes.js'
import { registerContentRoutes } from './bulletins/content-routes.js'
import { registerWorkflowRoutes } from './bulletins/workflow-routes.js'
import type { App, Services } from './context.js'
import { registerDeviceRoutes } from './devices/routes.js'
import { registerMediaRoutes } from './media/routes.js'
import { registerClusterRoutes } from './org/cluster-routes.js'
import { registerUnitRoutes } from './org/unit-routes.js'
import { registerUnitImportRoutes } from './org/units-import-routes.js'
import { registerLiveRoutes } from './rebroadcasts/live-routes.js'
import { registerMicRoutes, registerWebsocket } from './rebroadcasts/mic/routes.js'
import { registerRelayRoutes } from './rebroadcasts/relay-routes.js'
import { registerReportRoutes } from './reports/routes.js'
import { registerCalendarRoutes } from './schedules/calendar-routes.js'
import { registerScheduleRoutes } from './schedules/routes.js'
import { errorBody, LoaError, validationMessage } from './server/errors.js'
import { httpLimitOptions, registerHttpLimits } from './server/http-guard.js'
import { REDACT } from './server/log-redact.js'
import { registerSecurityHeaders } from './server/security-headers.js'
import { registerSystemRoutes } from './server/system-routes.js'
import { registerConsole } from './server/web-console.js'
import { registerTtsRoutes } from './tts/routes.js'
import { registerDashboardRoutes } from './uplink/dashboard-routes.js'

const JSON_BODY_LIMIT = 256 * 1024

export async function buildApp(
  services: Services,
  logger: Logger,
  opts: { https?: { key: Buffer; cert: Buffer; ca?: Buffer } } = {},
): Promise<App> {
  // Each plugin gets only what it uses (its *Deps type).
  const {
    alertStream,
    alerts,
    audit,
    auth,
    brokerAuth,
    brokerIdentities,
    config,
    credentials,
    desired,
    deviceVerifier,
    fanout,
    ingest,
    lanes,
    lives,
    metrics,
    mqtt,
    repos,
    signingKeys,
    speech,
    topics,
    tts,
  } = services
  const app = Fastify({
    // Timeouts a slow 4G phone still passes (docs/security.md, "Limits"); with TLS they ride in `https`.
    ...httpLimitOptions(config.httpLimits, opts.https),
    // Whatever logger the caller gave, request logs never carry credentials.
    loggerInstance: logger.child({}, { redact: REDACT }) as FastifyBaseLogger,
    bodyLimit: JSON_BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof LoaError) {
      return reply.status(err.statusCode).send(errorBody(err.statusCode, err.code, err.message))
    }
    if (err.validation) {
      return reply
        .status(400)
        .send(
          errorBody(
            400,
            'LOA_VALIDATION',
            validationMessage(err.validation, err.message, err.validationContext),
          ),
        )
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) request.log.error({ err }, 'request failed')
    const code = status === 413 ? 'LOA_BODY_TOO_LARGE' : (err.code ?? 'LOA_INTERNAL')
    return reply.status(status).send(errorBody(status, code, status >= 500 ? 'internal error' : err.message))
  })
  let consoleFallback: (request: FastifyRequest, reply: FastifyReply) => boolean = () => false
  app.setNotFoundHandler((request, reply) => {
    if (consoleFallback(request, reply)) return reply
    return reply
      .status(404)
      .send(errorBody(404, 'LOA_NOT_FOUND', `route ${request.method} ${request.url} not found`))
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Loa control plane',
        version: '0.1.0',
        description: 'Commune loudspeaker radio control plane',
      },
    },
  })
  await app.register(multipart, {
    limits: {
      fileSize: Math.round(config.maxUploadMb * 1024 * 1024),
      files: 1,
      fields: 10,
      parts: 12,
    },
  })

  registerSecurityHeaders(app, { mapTileUrl: config.mapTileUrl, https: Boolean(opts.https) })
  registerHttpLimits(app, config.httpLimits, metrics.registry)
  // Before any route: its onRoute hook checks that every protected route declares a permission.
  await registerWebsocket(app, { config })
  await registerAuth(app, { audit, auth, deviceVerifier, repos })
  registerSystemRoutes(app, { metrics, mqtt, repos })
  registerAuthRoutes(app, { audit, auth, repos })
  registerUserRoutes(app, { repos })
  registerTokenRoutes(app, { repos })
  registerAuditRoutes(app, { repos })
  registerUnitRoutes(app, { desired, repos })
  registerUnitImportRoutes(app, { desired, repos })
  registerClusterRoutes(app, { desired, fanout, ingest, mqtt, repos })
  registerMediaRoutes(app, { config, lanes, repos })
  registerContentRoutes(app, { repos })
  registerScheduleRoutes(app, { config, desired, repos })
  registerReportRoutes(app, { config, repos })
  registerAlertRoutes(app, { alerts, config, lanes, repos, tts }, alertStream)
  registerCapRoutes(app, { alerts, config, lanes, repos, speech })
  registerLiveRoutes(app, { lives, repos }, alertStream)
  registerRelayRoutes(app, { desired, repos })
  registerTtsRoutes(app, { config, lanes, repos, tts })
  registerWorkflowRoutes(app, { alerts, config, desired, repos })
  registerCalendarRoutes(app, { config, desired, repos })
  registerDashboardRoutes(app, { repos })
  registerDeviceRoutes(app, {
    brokerAuth,
    brokerIdentities,
    credentials,
    desired,
    repos,
    signingKeys,
    topics,
  })
  await registerMicRoutes(app, { audit, config, lives, repos }, { limits: config.micLimits })
  consoleFallback = await registerConsole(app, { config })
  app.get('/openapi.json', { schema: { hide: true }, config: { permission: 'read' } }, async () =>
    app.swagger(),
  )
  return app
}
