import { createHash, randomBytes } from 'node:crypto'
import type { Repositories } from '../repositories.js'
import type { Session, UserRecord } from './model.js'
import type { AuthSettings } from './settings.js'

export const SESSION_COOKIE = 'loa_session'
/** last_seen_at is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60_000

export const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex')

/** A new session: the random token goes to the cookie, only its hash to the database. */
export async function createSession(
  repos: Repositories,
  userId: string,
  settings: AuthSettings,
  ip: string | null,
): Promise<{ token: string; session: Session }> {
  const token = randomBytes(32).toString('base64url')
  const now = new Date()
  const session: Session = {
    tokenHash: sha256Hex(token),
    userId,
    createdAt: now.toISOString(),
    lastSeenAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + settings.sessionAbsoluteMs).toISOString(),
    ip,
  }
  await repos.sessions.create(session)
  return { token, session }
}

/** The live session and its (enabled) user, or null; an expired session is deleted on sight. */
export async function resolveSession(
  repos: Repositories,
  token: string,
  settings: AuthSettings,
): Promise<{ session: Session; user: UserRecord } | null> {
  if (token.length < 20 || token.length > 100) return null
  const hash = sha256Hex(token)
  const session = await repos.sessions.get(hash)
  if (!session) return null
  const now = Date.now()
  const idleEnd = Date.parse(session.lastSeenAt) + settings.sessionIdleMs
  if (now >= idleEnd || now >= Date.parse(session.expiresAt)) {
    await repos.sessions.delete(hash)
    return null
  }
  const user = await repos.users.get(session.userId)
  if (!user || user.disabled) return null
  if (now - Date.parse(session.lastSeenAt) > TOUCH_EVERY_MS) {
    await repos.sessions.touch(hash, new Date(now).toISOString())
  }
  return { session, user }
}
