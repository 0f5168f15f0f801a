import { Type } from '@fastify/type-provider-typebox'
import { hashPassword, verifyPassword } from '@loa/shared/password-hash'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { auditActor } from '../audit/log.js'
import type { App, Services } from '../context.js'
import { forbidden, LoaError, unauthenticated } from '../server/errors.js'
import { loaPlugin } from '../server/plugin.js'
import type { UserRecord } from './model.js'
import { permissionsOf } from './policy.js'
import { createSession, SESSION_COOKIE } from './sessions.js'
import { MIN_PASSWORD_LENGTH } from './settings.js'

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
)
export const NewPassword = Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 })
const PasswordBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 1024 }), newPassword: NewPassword },
  { additionalProperties: false },
)

/** The same answer for an unknown user, a wrong password and a disabled account. */
const loginFailed = () => new LoaError('LOA_LOGIN_FAILED', 'username or password is incorrect')

/** 423: locked, or as many attempts in progress as it takes to lock it (one of them may still lock it). */
async function locked(users: Services['repos']['users'], id: string): Promise<LoaError> {
  const until = (await users.get(id))?.lockedUntil
  return new LoaError(
    'LOA_ACCOUNT_LOCKED',
    until
      ? `account locked after repeated failures until ${until}`
      : 'account locked: too many login attempts at once; try again in a moment',
  )
}

// Unknown usernames still cost one scrypt, so timing does not tell which usernames exist.
let dummyHash: Promise<string> | null = null
const dummy = () => {
  dummyHash ??= hashPassword('not a password of anyone')
  return dummyHash
}

export async function userView(
  s: Pick<Services, 'repos'>,
  u: Pick<UserRecord, 'id' | 'username' | 'displayName' | 'role' | 'scopeUnitId'>,
) {
  const unit = u.scopeUnitId ? await s.repos.units.get(u.scopeUnitId) : null
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    scopeUnitId: u.scopeUnitId,
    scopeUnitName: unit?.name ?? null,
  }
}

function setSessionCookie(req: FastifyRequest, reply: FastifyReply, token: string, maxAgeMs: number): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: req.protocol === 'https',
    maxAge: Math.floor(maxAgeMs / 1000),
  })
}

/** What auth routes use of the services (app.ts passes exactly these). */
export type AuthRoutesDeps = Pick<Services, 'audit' | 'auth' | 'repos'>

/** Login, logout, who am I, change my password (docs/users-and-roles.md). */
export function registerAuthRoutes(app: App, s: AuthRoutesDeps): void {
  const { users, sessions } = s.repos

  app.post(
    '/api/auth/login',
    {
      schema: { tags: ['auth'], body: LoginBody },
      config: {
        permission: 'public',
        audit: 'auth.login',
        rateLimit: { max: s.auth.loginRateMax, timeWindow: s.auth.loginRateWindowMs },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body
      req.auditInfo = { targetType: 'user', details: { username } }
      const user = await users.getByUsername(username)
      if (!user) {
        await verifyPassword(password, await dummy())
        throw loginFailed()
      }
      req.auditInfo.targetId = user.id
      const now = Date.now()
      const nowIso = new Date(now).toISOString()
      // Counted as a failure before the slow hash, in one step: parallel guesses cannot all pass the check.
      if (!(await users.reserveLoginAttempt(user.id, nowIso, s.auth.lockoutThreshold)))
        throw await locked(users, user.id)
      const ok = (await verifyPassword(password, user.passwordHash)) && !user.disabled
      if (!ok) {
        const lockedUntil = new Date(now + s.auth.lockoutMs).toISOString()
        if (await users.failLoginAttempt(user.id, s.auth.lockoutThreshold, lockedUntil)) {
          await s.audit.record({
            actor: { kind: 'system', id: 'system', name: 'system' },
            action: 'auth.lockout',
            targetType: 'user',
            targetId: user.id,
            unitId: user.scopeUnitId,
            outcome: 423,
            ip: req.ip,
            details: { username: user.username, failures: s.auth.lockoutThreshold, lockedUntil },
          })
        }
        throw loginFailed()
      }
      // Right, but parallel wrong guesses locked the account meanwhile: the lock wins.
      if (!(await users.succeedLoginAttempt(user.id, new Date().toISOString())))
        throw await locked(users, user.id)
      // Expired sessions are swept here, at a rate bounded by logins.
      await sessions.deleteExpired(
        new Date(now - s.auth.sessionIdleMs).toISOString(),
        new Date(now).toISOString(),
      )
      const { token } = await createSession(s.repos, user.id, s.auth, req.ip)
      setSessionCookie(req, reply, token, s.auth.sessionAbsoluteMs)
      req.auditInfo.actor = { kind: 'user', id: user.id, name: user.displayName || user.username }
      req.auditInfo.unitId = user.scopeUnitId ?? undefined
      return { user: await userView(s, user) }
    },
  )

  app.post(
    '/api/auth/logout',
    { schema: { tags: ['auth'] }, config: { permission: 'authenticated', audit: 'auth.logout' } },
    async (req, reply) => {
      if (req.sessionHash) await sessions.delete(req.sessionHash)
      reply.clearCookie(SESSION_COOKIE, { path: '/' })
      req.auditInfo = { targetType: 'user', targetId: req.actor.id }
      return reply.status(204).send()
    },
  )

  app.get(
    '/api/auth/me',
    { schema: { tags: ['auth'] }, config: { permission: 'authenticated' } },
    async (req) => {
      const a = req.actor
      const permissions = permissionsOf(a)
      if (a.kind === 'user') {
        const u = await users.get(a.id)
        if (!u) throw unauthenticated()
        return { user: await userView(s, u), permissions }
      }
      return {
        user: null,
        token: { id: a.id, name: a.name, role: a.role, scopeUnitId: a.scopeUnitId },
        permissions,
      }
    },
  )

  app.post(
    '/api/auth/password',
    {
      schema: { tags: ['auth'], body: PasswordBody },
      config: { permission: 'authenticated', audit: 'auth.password' },
    },
    async (req, reply) => {
      if (req.actor.kind !== 'user') throw forbidden('only a signed-in user can change a password')
      const u = await users.get(req.actor.id)
      if (!u) throw unauthenticated()
      req.auditInfo = { targetType: 'user', targetId: u.id, actor: auditActor(req.actor) }
      // Guessing the current password from a stolen session counts like guessing it at the login.
      const threshold = s.auth.lockoutThreshold
      if (!(await users.reserveLoginAttempt(u.id, new Date().toISOString(), threshold)))
        throw await locked(users, u.id)
      if (!(await verifyPassword(req.body.currentPassword, u.passwordHash))) {
        await users.failLoginAttempt(u.id, threshold, new Date(Date.now() + s.auth.lockoutMs).toISOString())
        throw new LoaError('LOA_VALIDATION', 'currentPassword: incorrect')
      }
      await users.update(u.id, { passwordHash: await hashPassword(req.body.newPassword) })
      const ended = await sessions.deleteForUser(u.id, req.sessionHash)
      req.auditInfo.details = { otherSessionsEnded: ended }
      return reply.status(204).send()
    },
  )
}

/** registerAuthRoutes as a Fastify plugin (server/plugin.ts). */
export const authRoutes = loaPlugin('loa-auth-routes', registerAuthRoutes)
