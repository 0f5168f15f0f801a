import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * Passwords people choose (operators, technicians) are stored only as memory-hard scrypt hashes in one
 * self-describing string, `scrypt$N$r$p$salt$hash` (salt and hash base64url), so the parameters can be raised
 * later without breaking stored hashes. Machine secrets with 256 bits of entropy do not need this.
 */
const DEFAULTS = { N: 2 ** 15, r: 8, p: 1 }
const KEY_LENGTH = 32

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes; leave headroom.
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...opts, maxmem: 256 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

export async function hashPassword(password: string, params: Partial<typeof DEFAULTS> = {}): Promise<string> {
  const { N, r, p } = { ...DEFAULTS, ...params }
  const salt = randomBytes(16)
  const key = await derive(password, salt, { N, r, p })
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** False for a wrong password and for a malformed hash; never throws on input. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = parts.slice(1, 4).map(Number)
  if (!N || !r || !p || N > 2 ** 20 || r > 32 || p > 16) return false
  const salt = Buffer.from(parts[4] ?? '', 'base64url')
  const expected = Buffer.from(parts[5] ?? '', 'base64url')
  if (salt.length < 8 || expected.length !== KEY_LENGTH) return false
  const key = await derive(password, salt, { N, r, p })
  return timingSafeEqual(key, expected)
}
