import { randomUUID } from 'node:crypto'
import { Type } from '@fastify/type-provider-typebox'
import { EntityId } from '@loa/shared'
import { hashPassword } from '@loa/shared/password-hash'
import type { FastifyRequest } from 'fastify'
import type { App, Services } from '../context.js'
import { forbidden, invalid, LoaError, notFound } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import { loaPlugin } from '../server/plugin.js'
import { NewPassword, userView } from './auth-routes.js'
import type { User } from './model.js'
import { ROLES, scopeUnitIds } from './policy.js'

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)))
const Username = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$' })
const DisplayName = PlainText({ minLength: 1, maxLength: 200 })
const Scope = Type.Union([EntityId, Type.Null()])
const UserBody = Type.Object(
  {
    username: Username,
    displayName: DisplayName,
    role: RoleSchema,
    scopeUnitId: Scope,
    password: NewPassword,
  },
  { additionalProperties: false },
)
const UserPatchBody = Type.Object(
  {
    displayName: Type.Optional(DisplayName),
    role: Type.Optional(RoleSchema),
    scopeUnitId: Type.Optional(Scope),
    disabled: Type.Optional(Type.Boolean()),
    password: Type.Optional(NewPassword),
  },
  { additionalProperties: false },
)
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

/** Only a scope inside one's own may be granted; the whole tree (null) only by an unrestricted actor. */
export async function assertGrantableScope(
  s: Pick<Services, 'repos'>,
  req: FastifyRequest,
  scopeUnitId: string | null,
) {
  const mine = await scopeUnitIds(s, req.actor)
  if (scopeUnitId === null) {
    if (mine !== null) throw forbidden('scopeUnitId: only an administrator of the whole tree can grant it')
    return
  }
  // The scope first, so an unknown unit and another commune's get the same answer.
  if (mine !== null && !mine.has(scopeUnitId))
    throw forbidden(`scopeUnitId: unit "${scopeUnitId}" is outside your scope`)
  if (!(await s.repos.units.get(scopeUnitId))) throw invalid('scopeUnitId', `unit "${scopeUnitId}" not found`)
  req.auditInfo ??= {}
  req.auditInfo.unitId ??= scopeUnitId
}

const adminView = async (s: Pick<Services, 'repos'>, u: User) => ({
  ...(await userView(s, u)),
  disabled: u.disabled,
  lockedUntil: u.lockedUntil,
  createdAt: u.createdAt,
  updatedAt: u.updatedAt,
  lastLoginAt: u.lastLoginAt,
})

/** What user routes use of the services (app.ts passes exactly these). */
export type UserRoutesDeps = Pick<Services, 'repos'>

/** Users admin (admin-users permission), scoped like everything else. */
export function registerUserRoutes(app: App, s: UserRoutesDeps): void {
  const { users, sessions } = s.repos

  const visible = async (req: FastifyRequest, u: User | null): Promise<boolean> => {
    if (!u) return false
    const scope = await scopeUnitIds(s, req.actor)
    return scope === null || (u.scopeUnitId !== null && scope.has(u.scopeUnitId))
  }

  app.get(
    '/api/users',
    { schema: { tags: ['users'] }, config: { permission: 'admin-users' } },
    async (req) => {
      const all = await users.list()
      const shown: User[] = []
      for (const u of all) if (await visible(req, u)) shown.push(u)
      return { users: await Promise.all(shown.map((u) => adminView(s, u))) }
    },
  )

  app.get(
    '/api/users/:id',
    { schema: { tags: ['users'], params: IdParams }, config: { permission: 'admin-users' } },
    async (req) => {
      const u = await users.get(req.params.id)
      if (!u || !(await visible(req, u))) throw notFound('user', req.params.id)
      return adminView(s, u)
    },
  )

  app.post(
    '/api/users',
    {
      schema: { tags: ['users'], body: UserBody },
      config: { permission: 'admin-users', audit: 'user.create' },
    },
    async (req, reply) => {
      const b = req.body
      req.auditInfo = { details: { username: b.username, role: b.role, scopeUnitId: b.scopeUnitId } }
      await assertGrantableScope(s, req, b.scopeUnitId)
      if (await users.getByUsername(b.username)) {
        throw new LoaError('LOA_CONFLICT', `username: "${b.username}" already exists`)
      }
      const u = await users.create({
        id: `u-${randomUUID()}`,
        username: b.username,
        displayName: b.displayName,
        role: b.role,
        scopeUnitId: b.scopeUnitId,
        passwordHash: await hashPassword(b.password),
      })
      return reply.status(201).send(await adminView(s, u))
    },
  )

  app.patch(
    '/api/users/:id',
    {
      schema: { tags: ['users'], params: IdParams, body: UserPatchBody },
      config: { permission: 'admin-users', audit: 'user.update' },
    },
    async (req) => {
      const b = req.body
      const cur = await users.get(req.params.id)
      if (!cur || !(await visible(req, cur))) throw notFound('user', req.params.id)
      const { password, ...rest } = b
      // A reset is noted without the word the secret filter drops.
      req.auditInfo = { details: { ...rest, resetLogin: password !== undefined } }
      if (b.scopeUnitId !== undefined) await assertGrantableScope(s, req, b.scopeUnitId)
      const staysAdmin = (b.role ?? cur.role) === 'province-admin' && !(b.disabled ?? cur.disabled)
      if (
        cur.role === 'province-admin' &&
        !cur.disabled &&
        !staysAdmin &&
        (await users.countActiveAdmins()) <= 1
      ) {
        throw new LoaError('LOA_LAST_ADMIN', 'the last province administrator cannot be demoted or disabled')
      }
      const u = await users.update(cur.id, {
        ...rest,
        ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}),
      })
      // A disabled account or a reset password ends every session of that user.
      if (b.disabled === true || password !== undefined) await sessions.deleteForUser(cur.id)
      return adminView(s, u as User)
    },
  )
}

/** registerUserRoutes as a Fastify plugin (server/plugin.ts). */
export const userRoutes = loaPlugin('loa-user-routes', registerUserRoutes)
