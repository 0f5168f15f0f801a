import { randomBytes, timingSafeEqual } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** The control plane's own MQTT identity; devices can never take this username or client id. */
export const CONTROL_PLANE_USERNAME = 'loa-control-plane'
/** Optional read-only identity for operators' monitoring tools (subscribe anywhere under the root, publish nothing). */
export const MONITOR_USERNAME = 'loa-monitor'
export const SECRET_FILE = 'mqtt-control-plane.secret'

export interface BrokerIdentity {
  username: string
  password: string
}

/**
 * The control plane's broker credentials: LOA_MQTT_USERNAME / LOA_MQTT_PASSWORD when given (an external broker),
 * otherwise a secret generated once into the data directory (mode 0600) for the embedded broker.
 */
export function controlPlaneIdentity(opts: {
  dataDir: string
  username?: string | null
  password?: string | null
}): BrokerIdentity {
  const username = opts.username || CONTROL_PLANE_USERNAME
  if (opts.password) return { username, password: opts.password }
  const file = path.join(opts.dataDir, SECRET_FILE)
  try {
    const existing = fs.readFileSync(file, 'utf8').trim()
    if (existing.length >= 32) return { username, password: existing }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  fs.mkdirSync(opts.dataDir, { recursive: true })
  const password = randomBytes(32).toString('base64url')
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600 })
  return { username, password }
}

/** Constant-time comparison of a presented password with the expected one. */
export function samePassword(given: Buffer | string | undefined, expected: string): boolean {
  if (given === undefined) return false
  const a = Buffer.isBuffer(given) ? given : Buffer.from(given, 'utf8')
  const b = Buffer.from(expected, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}
