import { ApiError, get, post } from './api'
import { useListeners } from './ui/use-listeners'

/** The logged-in operator, as GET /api/auth/me answers. */
export interface User {
  id: string
  username: string
  displayName: string
  role: string
  scopeUnitId: string | null
  scopeUnitName: string | null
}

export interface Session {
  user: User
  permissions: string[]
}

let session: Session | null = null
const listeners = new Set<() => void>()

function set(next: Session | null): void {
  session = next
  for (const l of listeners) l()
}

export const currentSession = (): Session | null => session

/** May the current user do this? (The API enforces it anyway; pages use this only to hide what would fail.) */
export function can(permission: string | undefined): boolean {
  if (!permission) return true
  return session?.permissions.includes(permission) ?? false
}

/** Asks the server who is logged in (the session cookie is httpOnly, so only the server knows). */
export async function loadSession(): Promise<Session | null> {
  try {
    const me = await get<{ user: User; permissions?: string[] }>('/api/auth/me')
    set({ user: me.user, permissions: me.permissions ?? [] })
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) set(null)
    else throw err
  }
  return session
}

export async function login(username: string, password: string): Promise<Session | null> {
  await post('/api/auth/login', { username, password })
  return await loadSession()
}

export async function logout(): Promise<void> {
  try {
    await post('/api/auth/logout')
  } finally {
    set(null)
  }
}

/** Forget the session locally (after a 401). */
export const dropSession = (): void => set(null)

export function useSession(): Session | null {
  useListeners(listeners)
  return session
}
