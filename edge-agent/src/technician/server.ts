import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyCookie from '@fastify/cookie'
import fastifyMultipart from '@fastify/multipart'
import fastifyRateLimit from '@fastify/rate-limit'
import fastifyStatic from '@fastify/static'
import type { HttpLimits } from '@loa/shared/http-limits'
import { securityHeaders } from '@loa/shared/security-headers'
import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { AgentError, type AgentErrorCode } from '../errors.js'
import { TechnicianAuth } from './auth.js'
import { sendError } from './http.js'
import { applyLocalLimits, localFastifyLimits, localHttpLimits } from './limits.js'
import type { LogRing } from './log.js'
import type { TechnicianHost } from './ports.js'
import { actionRoutes } from './routes-actions.js'
import { statusRoutes } from './routes-status.js'

export const SESSION_COOKIE = 'loa_tech'
/** Audio uploads and recordings: ten minutes of a phone's recording is a few MB; more is a mistake. */
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024
/** Agent errors a request can cause, and their HTTP status; anything else is a 500. */
const AGENT_ERROR_STATUS: Partial<Record<AgentErrorCode, number>> = {
  LOA_LOCAL_BUSY: 429,
  LOA_AGENT_ZONE_UNKNOWN: 404,
  LOA_LOCAL_AUDIO_INVALID: 400,
}
/** The only /api routes without a session: the login screen's question, login and logout. */
export const OPEN_ROUTES = ['/api/auth', '/api/login', '/api/logout']
const WEB_DIR = fileURLToPath(new URL('../../dist-web/', import.meta.url))

export interface LocalServerOptions {
  /** Provides the ports the page reaches (technician/ports.ts): the agent. */
  agent: TechnicianHost
  log: Logger
  logs?: LogRing
  /** Defaults to the bundled page in dist-web/. */
  webDir?: string
  auth?: TechnicianAuth
  /** Hears every route as it is added (tests check that each /api route needs the session). */
  onRoute?: (method: string, url: string) => void
  /** Connection limits over the config's (tests shorten them). */
  limits?: Partial<HttpLimits>
}

/**
 * The technician's page and its API, served by the agent on the box's own network (docs/technician-page.md).
 * Every /api route except login, logout and the login screen's question needs the session cookie. Nothing on
 * the page comes from outside the box, so it works with no connection to the province.
 */
export async function buildLocalServer(o: LocalServerOptions): Promise<FastifyInstance> {
  const ports = o.agent.technician
  const { config, events } = ports
  const auth = o.auth ?? new TechnicianAuth(() => config.technician?.passwordHash)
  const limits = localHttpLimits(config, o.limits)
  const app = Fastify({
    // Timeouts and body rate a phone on a weak Wi-Fi still passes (docs/security.md, "Limits").
    ...localFastifyLimits(limits),
    logger: false,
    bodyLimit: 16 * 1024,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  })
  if (o.onRoute) {
    const hear = o.onRoute
    app.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) hear(m, r.url)
    })
  }
  await app.register(fastifyCookie)
  await app.register(fastifyRateLimit, { global: true, max: 600, timeWindow: 60_000 })
  await app.register(fastifyMultipart, {
    limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 4, fieldSize: 1024, parts: 6 },
  })
  applyLocalLimits(app, limits, o.log)

  // The console's headers (shared/src/security-headers.ts); the page records announcements from the microphone.
  const headers = securityHeaders({ microphone: true, https: false })
  app.addHook('onSend', async (req, reply, payload) => {
    reply.headers(headers)
    if ((req.routeOptions.url ?? req.url).startsWith('/api/')) reply.header('cache-control', 'no-store')
    return payload
  })

  app.addHook('onRequest', async (req, reply) => {
    // Decided by the route matched, never by the raw URL: `/%61pi/status` reaches the /api/status route too.
    const route = req.routeOptions.url ?? ''
    if (!route.startsWith('/api/')) return
    // The cookie is SameSite=Strict already; a foreign Origin on a change is refused as well.
    const origin = req.headers.origin
    if (req.method !== 'GET' && origin && origin !== 'null') {
      let host: string | null = null
      try {
        host = new URL(origin).host
      } catch {}
      if (host !== req.headers.host) return sendError(reply, 403, 'LOA_LOCAL_FORBIDDEN')
    }
    const open = OPEN_ROUTES.includes(route)
    if (!open && !auth.check(req.cookies[SESSION_COOKIE]))
      return sendError(reply, 401, 'LOA_LOCAL_UNAUTHORIZED')
  })

  app.setErrorHandler(
    (err: Error & { statusCode?: number; validation?: unknown; code?: string }, _req, reply) => {
      if (err instanceof AgentError) {
        const status = AGENT_ERROR_STATUS[err.code]
        if (status) return sendError(reply, status, err.code, { details: err.details })
      }
      if (err.validation) return sendError(reply, 400, 'LOA_LOCAL_BAD_REQUEST', { details: [err.message] })
      if (err.code === 'FST_REQ_FILE_TOO_LARGE' || err.statusCode === 413) {
        return sendError(reply, 413, 'LOA_LOCAL_TOO_LARGE', { limitBytes: MAX_UPLOAD_BYTES })
      }
      if (err.statusCode === 429)
        return reply.status(429).send({ code: 'LOA_LOCAL_LOCKED', message: err.message })
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        return sendError(reply, err.statusCode, 'LOA_LOCAL_BAD_REQUEST', { details: [err.message] })
      }
      o.log.error({ err }, 'technician page error')
      return reply.status(500).send({ code: 'LOA_INTERNAL', message: 'internal error' })
    },
  )

  app.get('/api/auth', async (req) => ({
    configured: auth.configured,
    loggedIn: auth.check(req.cookies[SESSION_COOKIE]),
    deviceId: config.deviceId,
  }))

  app.post(
    '/api/login',
    {
      config: { rateLimit: { max: 10, timeWindow: 60_000 } },
      schema: {
        body: Type.Object({ password: Type.String({ maxLength: 256 }) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const { password } = req.body as { password: string }
      const r = await auth.login(password, req.ip)
      if (r.ok) {
        events.event('technician-login', 'info', 'technician logged in on the local page', {
          ip: req.ip,
        })
        return reply
          .setCookie(SESSION_COOKIE, r.token, { httpOnly: true, sameSite: 'strict', path: '/' })
          .send({ ok: true })
      }
      if (r.reason === 'not-configured') return sendError(reply, 503, 'LOA_LOCAL_NO_PASSWORD')
      events.event('technician-login-failed', 'warning', 'wrong technician password on the local page', {
        ip: req.ip,
        locked: r.reason === 'locked',
      })
      if (r.reason === 'locked') {
        return sendError(reply.header('retry-after', String(r.retryAfterS)), 429, 'LOA_LOCAL_LOCKED', {
          retryAfterS: r.retryAfterS,
        })
      }
      return sendError(reply, 401, 'LOA_LOCAL_WRONG_PASSWORD')
    },
  )

  app.post('/api/logout', async (req, reply) => {
    auth.logout(req.cookies[SESSION_COOKIE])
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).send({ ok: true })
  })

  await statusRoutes(app, ports, o.logs)
  await actionRoutes(app, ports)

  const webDir = o.webDir ?? WEB_DIR
  if (existsSync(webDir)) await app.register(fastifyStatic, { root: webDir, index: ['index.html'] })
  else {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send(
          'Trang kỹ thuật chưa được build: chạy `npm run build`.\nTechnician page not built: run `npm run build`.',
        ),
    )
  }
  app.setNotFoundHandler((req, reply) =>
    req.url.startsWith('/api/')
      ? sendError(reply, 404, 'LOA_LOCAL_NOT_FOUND')
      : reply.status(404).send('not found'),
  )
  return app
}

/** Starts the page if configured; a port in use is an event and a log line, never a dead agent. */
export async function startLocalServer(
  agent: TechnicianHost,
  log: Logger,
  logs?: LogRing,
): Promise<{ port: number; close: () => Promise<void> } | null> {
  const { config, events } = agent.technician
  const cfg = config.localPage
  if (!cfg || cfg.host === 'off') return null
  const app = await buildLocalServer({ agent, log, logs })
  try {
    await app.listen({ port: cfg.port, host: cfg.host })
  } catch (err) {
    log.error({ err, port: cfg.port }, 'technician page could not listen')
    events.event('local-page-failed', 'error', `technician page could not listen on ${cfg.port}`, {
      port: cfg.port,
      error: (err as Error).message.slice(0, 300),
    })
    await app.close()
    return null
  }
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port
  log.info(
    { port, host: cfg.host, passwordSet: !!config.technician?.passwordHash },
    'technician page listening',
  )
  return { port, close: () => app.close() }
}
