import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Repositories } from '../repositories.js'
import type { Role } from './actor.js'
import type { ApiToken, ApiTokenRecord } from './model.js'
import { sha256Hex } from './sessions.js'

/**
 * API tokens for machine clients: `loa_<id>_<secret>`, sent as `Authorization: Bearer ...`. The id finds the row,
 * the secret (32 random bytes) is compared with its stored SHA-256: a secret of that entropy needs no slow hash.
 */
const TOKEN_RE = /^loa_([a-z0-9]{1,32})_([A-Za-z0-9_-]{32,128})$/

export function parseApiToken(value: string): { id: string; secret: string } | null {
  const m = TOKEN_RE.exec(value)
  return m ? { id: m[1] as string, secret: m[2] as string } : null
}

/** A fresh token string, e.g. for LOA_BOOTSTRAP_TOKEN. */
export function newApiTokenString(id = randomBytes(8).toString('hex')): string {
  return `loa_${id}_${randomBytes(32).toString('base64url')}`
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y)
}

/** Creates a token; the returned `secret` (the whole bearer string) is shown once and never stored. */
export async function createApiToken(
  repos: Repositories,
  t: { name: string; role: Role; scopeUnitId: string | null; createdBy: string | null },
): Promise<{ token: ApiToken; secret: string }> {
  const value = newApiTokenString()
  const { id, secret } = parseApiToken(value) as { id: string; secret: string }
  const token = await repos.apiTokens.create({ ...t, id, secretHash: sha256Hex(secret) })
  return { token, secret: value }
}

/** The live (not revoked) token for a bearer string, or null. Records its last use. */
export async function resolveApiToken(repos: Repositories, value: string): Promise<ApiTokenRecord | null> {
  const parsed = parseApiToken(value)
  if (!parsed) return null
  const t = await repos.apiTokens.get(parsed.id)
  if (!t || t.revokedAt !== null || !sameHash(t.secretHash, sha256Hex(parsed.secret))) return null
  const now = new Date().toISOString()
  // At most one write a minute per token.
  if (t.lastUsedAt === null || Date.parse(now) - Date.parse(t.lastUsedAt) > 60_000) {
    await repos.apiTokens.touch(t.id, now)
  }
  return t
}

/**
 * LOA_BOOTSTRAP_TOKEN: makes sure a province-admin token with exactly this value exists (whole tree, not revoked),
 * so first-time setup, the demo and the e2e harness can call the API before any user exists.
 */
export async function ensureBootstrapToken(repos: Repositories, value: string): Promise<string> {
  const parsed = parseApiToken(value)
  if (!parsed) {
    throw new Error(
      'LOA_BOOTSTRAP_TOKEN: expected loa_<id>_<secret> (id: a-z0-9, secret: 32+ base64url chars)',
    )
  }
  await repos.apiTokens.reset({
    id: parsed.id,
    name: 'bootstrap',
    role: 'province-admin',
    scopeUnitId: null,
    secretHash: sha256Hex(parsed.secret),
  })
  return parsed.id
}
