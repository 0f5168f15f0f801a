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
import { authPlugin } from './access/auth-plugin.js'
import { authRoutes } from './access/auth-routes.js'
import { tokenRoutes } from './access/token-routes.js'
import { userRoutes } from './access/user-routes.js'
import { capRoutes } from './alerts/cap/routes.js'
import { alertRoutes } from './alerts/routes.js'
import { auditRoutes } from './audit/routes.js'
import { contentRoutes } from './bulletins/content-routes.js'
import { workflowRoutes } from './bulletins/workflow-routes.js'
import type { App, Services } from './context.js'
import { deviceRoutes } from './devices/routes.js'
import { mediaRoutes } from './media/routes.js'
import { clusterRoutes } from './org/cluster-routes.js'
import { unitRoutes } from './org/unit-routes.js'
import { unitImportRoutes } from './org/units-import-routes.js'
import { liveRoutes } from './relays/live-routes.js'
import { micRoutes, websocketPlugin } from './relays/mic/routes.js'
import { relayRoutes } from './relays/recurring-routes.js'
import { reportRoutes } from './reports/routes.js'
import { calendarRoutes } from './schedules/calendar-routes.js'
import { scheduleRoutes } from './schedules/routes.js'
import { errorBody, LoaError, validationMessage } from './server/errors.js'
import { httpLimitOptions, registerHttpLimits } from './server/http-guard.js'
import { REDACT } from './server/log-redact.js'
import { registerSecurityHeaders } from './server/security-headers.js'
import { systemRoutes } from './server/system-routes.js'
import { registerConsole } from './server/web-console.js'
import { ttsRoutes } from './tts/routes.js'
import { dashboardRoutes } from './uplink/dashboard-routes.js'

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
  await app.register(websocketPlugin, { config })
  await app.register(authPlugin, { audit, auth, deviceVerifier, repos })
  await app.register(systemRoutes, { metrics, mqtt, repos })
  await app.register(authRoutes, { audit, auth, repos })
  await app.register(userRoutes, { repos })
  await app.register(tokenRoutes, { repos })
  await app.register(auditRoutes, { repos })
  await app.register(unitRoutes, { desired, repos })
  await app.register(unitImportRoutes, { desired, repos })
  await app.register(clusterRoutes, { desired, fanout, ingest, mqtt, repos })
  await app.register(mediaRoutes, { config, lanes, repos })
  await app.register(contentRoutes, { repos })
  await app.register(scheduleRoutes, { config, desired, repos })
  await app.register(reportRoutes, { config, repos })
  await app.register(alertRoutes, { alertStream, alerts, config, lanes, repos, tts })
  await app.register(capRoutes, { alerts, config, lanes, repos, speech })
  await app.register(liveRoutes, { alertStream, lives, repos })
  await app.register(relayRoutes, { desired, repos })
  await app.register(ttsRoutes, { config, lanes, repos, tts })
  await app.register(workflowRoutes, { alerts, config, desired, repos })
  await app.register(calendarRoutes, { config, desired, repos })
  await app.register(dashboardRoutes, { repos })
  await app.register(deviceRoutes, {
    brokerAuth,
    brokerIdentities,
    credentials,
    desired,
    repos,
    signingKeys,
    topics,
  })
  await app.register(micRoutes, { audit, config, lives, repos })
  consoleFallback = await registerConsole(app, { config })
  app.get('/openapi.json', { schema: { hide: true }, config: { permission: 'read' } }, async () =>
    app.swagger(),
  )
  return app
}
