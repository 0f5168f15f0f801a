import { pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const pbkdf2Async = promisify(pbkdf2)

/**
 * Device secrets are stored in Mosquitto's own PBKDF2-SHA512 format, `$7$<iterations>$<salt b64>$<hash b64>`
 * (what `mosquitto_passwd` writes), so the Mosquitto password file can be regenerated from the database at any
 * time. 101 iterations is Mosquitto's default: the secrets are 256 random bits, so stretching adds nothing against
 * guessing, while 5,000 boxes reconnecting after a broker restart must not cost minutes of CPU.
 */
export const MOSQUITTO_ITERATIONS = 101
const SALT_BYTES = 12
const HASH_BYTES = 64

/** A new device secret: 32 random bytes, base64url (43 characters, safe in URLs, JSON and config files). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url')
}

export function mosquittoHash(secret: string, iterations = MOSQUITTO_ITERATIONS): string {
  const salt = randomBytes(SALT_BYTES)
  const hash = pbkdf2Sync(secret, salt, iterations, HASH_BYTES, 'sha512')
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`
}

const HASH_RE = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/

/** Checks a secret against a `$7$` hash (off the event loop: pbkdf2 runs in libuv's pool). */
export async function verifyMosquittoHash(secret: string, stored: string): Promise<boolean> {
  const m = HASH_RE.exec(stored)
  if (!m) return false
  const iterations = Number(m[1])
  const salt = Buffer.from(m[2] as string, 'base64')
  const expected = Buffer.from(m[3] as string, 'base64')
  if (iterations < 1 || expected.length === 0) return false
  const got = await pbkdf2Async(secret, salt, iterations, expected.length, 'sha512')
  return timingSafeEqual(got, expected)
}
