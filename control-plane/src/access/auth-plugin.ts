import cookie from '@fastify/cookie'
import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type AuditActor, auditActor } from '../audit/log.js'
import type { App, Services } from '../context.js'
import { forbidden, LoaError, unauthenticated } from '../server/errors.js'
import { AUTH_PLUGIN, loaPlugin, WEBSOCKET_PLUGIN } from '../server/plugin.js'
import { isProtectedPath } from '../server/protected-paths.js'
import type { Actor, Permission } from './actor.js'
import { resolveApiToken } from './api-tokens.js'
import { can } from './policy.js'
import { resolveSession, SESSION_COOKIE } from './sessions.js'

/** What a route may tell the audit hook beyond what it can work out itself. */
export interface AuditInfo {
  action?: string
  actor?: AuditActor
  targetType?: string
  targetId?: string
  unitId?: string
  details?: Record<string, unknown>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who may call the route: a permission, 'authenticated' (any signed-in user or API token) or 'public'. Every
     * route under /api, /media, /metrics and /openapi.json must say (checked when the route is registered).
     */
    permission?: Permission | 'authenticated' | 'public'
    /** Device actors (HTTP Basic, deviceId:secret) are accepted here: media downloads only. */
    device?: boolean
    /** Audit action, e.g. 'schedule.create'; false: the route records itself. Default: method and route. */
    audit?: string | false
  }
  interface FastifyRequest {
    auditInfo?: AuditInfo
    /** SHA-256 of the session token when the request came with a session cookie. */
    sessionHash?: string
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Cookie-authenticated browsers: an unsafe request must come from our own origin. SameSite=Strict already keeps
 * the cookie off cross-site requests; this also stops same-site subdomains and old browsers (docs/security.md).
 */
export function assertSameOrigin(req: FastifyRequest): void {
  const site = req.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new LoaError('LOA_CROSS_SITE', `cross-site request refused (Sec-Fetch-Site: ${site})`)
  }
  const origin = req.headers.origin
  if (origin === undefined) return
  let same = false
  try {
    // Compared as URLs, so a default port written or not (`:80`) makes no difference.
    const o = new URL(origin)
    same = o.host === new URL(`${o.protocol}//${req.headers.host}`).host
  } catch {
    same = false
  }
  if (!same) {
    throw new LoaError('LOA_CROSS_SITE', 'cross-site request refused (Origin does not match Host)')
  }
}

const userActor = (u: {
  id: string
  username: string
  displayName: string
  role: Actor['role']
  scopeUnitId: string | null
}): Actor => ({
  kind: 'user',
  id: u.id,
  name: u.displayName || u.username,
  role: u.role,
  scopeUnitId: u.scopeUnitId,
})

/** The actor of a request's credentials; null when none were given; 401 when bad ones were. */
async function authenticate(
  s: Pick<Services, 'auth' | 'deviceVerifier' | 'repos'>,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<Actor | null> {
  const header = req.headers.authorization
  if (header !== undefined) {
    const [scheme, value = ''] = header.split(' ', 2)
    if (scheme?.toLowerCase() === 'bearer') {
      const t = await resolveApiToken(s.repos, value.trim())
      if (!t) throw unauthenticated('API token invalid or revoked')
      return { kind: 'token', id: t.id, name: t.name, role: t.role, scopeUnitId: t.scopeUnitId }
    }
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value.trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      const deviceId = decoded.slice(0, colon)
      const secret = decoded.slice(colon + 1)
      const ok =
        colon > 0 && s.deviceVerifier !== undefined && (await s.deviceVerifier.verify(deviceId, secret))
      if (!ok) throw unauthenticated('device credentials invalid')
      return { kind: 'device', id: deviceId, name: deviceId, role: 'device', scopeUnitId: null }
    }
    throw unauthenticated('unsupported authorization scheme (use Bearer or Basic)')
  }
  const token = req.cookies[SESSION_COOKIE]
  if (token === undefined) return null
  const found = await resolveSession(s.repos, token, s.auth)
  if (!found) {
    reply.clearCookie(SESSION_COOKIE, { path: '/' })
    throw unauthenticated('session expired; log in again')
  }
  req.sessionHash = found.session.tokenHash
  return userActor(found.user)
}

export { userActor }

/** Action names like 'schedule.create' give the target type 'schedule'. */
const targetTypeOf = (action: string) => (/^[a-z-]+\./.test(action) ? action.split('.')[0] : null)

/** What the auth plugin uses of the services (app.ts passes exactly these). */
export type AuthDeps = Pick<Services, 'audit' | 'auth' | 'deviceVerifier' | 'repos'>

/**
 * Authentication and authorisation of every request, and the audit trail of every mutating one. Registered before
 * any route: routes without a `config.permission` under a protected path make startup fail.
 */
export async function registerAuth(app: App, s: AuthDeps): Promise<void> {
  await app.register(cookie)
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) =>
      new LoaError('LOA_RATE_LIMITED', `too many attempts; try again in ${Math.ceil(ctx.ttl / 1000)} s`),
  })
  app.decorateRequest('actor', null as unknown as Actor)
  app.decorateRequest('auditInfo', undefined)
  app.decorateRequest('sessionHash', undefined)

  app.addHook('onRoute', (route) => {
    if (isProtectedPath(route.url) && route.config?.permission === undefined) {
      throw new Error(
        `route ${String(route.method)} ${route.url}: config.permission missing (docs/users-and-roles.md)`,
      )
    }
  })

  app.addHook('onRequest', async (req, reply) => {
    const cfg = req.routeOptions.config
    const permission = cfg?.permission
    if (!isProtectedPath(req.url) && permission === undefined) return
    if (req.headers.authorization === undefined && !SAFE_METHODS.has(req.method)) assertSameOrigin(req)
    if (permission === 'public') return
    req.actor = (await authenticate(s, req, reply)) as Actor
    if (!req.actor) throw unauthenticated()
    if (req.is404) return
    if (req.actor.kind === 'device') {
      if (!cfg?.device) throw forbidden('device credentials only allow media downloads')
      return
    }
    if (permission === 'authenticated') return
    if (permission === undefined || !can(req.actor, permission)) {
      throw forbidden(`permission "${permission ?? 'none'}" required`)
    }
  })

  // The id of what a create made, for the audit entry (bodies are small JSON here).
  app.addHook('onSend', async (req, reply, payload) => {
    if (SAFE_METHODS.has(req.method) || reply.statusCode >= 300 || typeof payload !== 'string') return payload
    if (payload.length > 65_536 || !payload.startsWith('{')) return payload
    try {
      const body = JSON.parse(payload) as Record<string, unknown>
      const id = body.id ?? body.commandId ?? body.alertId
      if (typeof id === 'string') {
        req.auditInfo ??= {}
        req.auditInfo.targetId ??= id
      }
    } catch {
      // not JSON: no id to note
    }
    return payload
  })

  app.addHook('onResponse', async (req, reply) => {
    const cfg = req.routeOptions.config
    if (cfg?.audit === false || req.routeOptions.url === undefined) return
    if (SAFE_METHODS.has(req.method) && !cfg?.audit) return
    if (!isProtectedPath(req.url) && !cfg?.audit) return
    const info = req.auditInfo ?? {}
    const action = info.action ?? cfg?.audit ?? `${req.method} ${req.routeOptions.url}`
    const params = (req.params ?? {}) as Record<string, unknown>
    const body = (req.body ?? {}) as Record<string, unknown>
    const str = (v: unknown) => (typeof v === 'string' ? v : null)
    await s.audit.record({
      actor: info.actor ?? auditActor(req.actor),
      action,
      targetType: info.targetType ?? targetTypeOf(action),
      targetId: info.targetId ?? str(params.id) ?? str(body.id),
      unitId: info.unitId ?? str(body.unitId),
      outcome: reply.statusCode,
      ip: req.ip,
      details: info.details,
    })
  })
}

/** registerAuth as a Fastify plugin (server/plugin.ts). */
export const authPlugin = loaPlugin(AUTH_PLUGIN, registerAuth, [WEBSOCKET_PLUGIN])
