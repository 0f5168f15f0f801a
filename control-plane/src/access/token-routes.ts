import { Type } from '@fastify/type-provider-typebox'
import { EntityId } from '@loa/shared'
import type { App, Services } from '../context.js'
import { notFound } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import { loaPlugin } from '../server/plugin.js'
import { createApiToken } from './api-tokens.js'
import { ROLES, scopeUnitIds } from './policy.js'
import { assertGrantableScope } from './user-routes.js'

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)))
const TokenBody = Type.Object(
  {
    name: PlainText({ minLength: 1, maxLength: 100 }),
    role: RoleSchema,
    scopeUnitId: Type.Optional(Type.Union([EntityId, Type.Null()])),
  },
  { additionalProperties: false },
)

/** What token routes use of the services (app.ts passes exactly these). */
export type TokenRoutesDeps = Pick<Services, 'repos'>

/** API tokens for machine clients (CAP feeds, scripts): created, listed (never the secret), revoked. */
export function registerTokenRoutes(app: App, s: TokenRoutesDeps): void {
  const { apiTokens } = s.repos

  app.post(
    '/api/tokens',
    {
      schema: { tags: ['auth'], body: TokenBody },
      config: { permission: 'admin-users', audit: 'token.create' },
    },
    async (req, reply) => {
      const b = req.body
      const scopeUnitId = b.scopeUnitId === undefined ? req.actor.scopeUnitId : b.scopeUnitId
      await assertGrantableScope(s, req, scopeUnitId)
      const { token, secret } = await createApiToken(s.repos, {
        name: b.name,
        role: b.role,
        scopeUnitId,
        createdBy: req.actor.id,
      })
      req.auditInfo = {
        ...req.auditInfo,
        targetId: token.id,
        details: { name: b.name, role: b.role, scopeUnitId },
      }
      // The only time the secret is shown.
      return reply.status(201).send({ ...token, secret })
    },
  )

  app.get(
    '/api/tokens',
    { schema: { tags: ['auth'] }, config: { permission: 'admin-users' } },
    async (req) => {
      const scope = await scopeUnitIds(s, req.actor)
      const all = await apiTokens.list()
      return {
        tokens: scope === null ? all : all.filter((t) => t.scopeUnitId !== null && scope.has(t.scopeUnitId)),
      }
    },
  )

  app.delete(
    '/api/tokens/:id',
    {
      schema: { tags: ['auth'], params: Type.Object({ id: Type.String({ maxLength: 64 }) }) },
      config: { permission: 'admin-users', audit: 'token.revoke' },
    },
    async (req, reply) => {
      const t = await apiTokens.get(req.params.id)
      const scope = await scopeUnitIds(s, req.actor)
      const visible = t !== null && (scope === null || (t.scopeUnitId !== null && scope.has(t.scopeUnitId)))
      if (!visible || t.revokedAt !== null) throw notFound('token', req.params.id)
      await apiTokens.revoke(t.id, new Date().toISOString())
      return reply.status(204).send()
    },
  )
}

/** registerTokenRoutes as a Fastify plugin (server/plugin.ts). */
export const tokenRoutes = loaPlugin('loa-token-routes', registerTokenRoutes)
