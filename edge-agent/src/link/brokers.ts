import { createHash } from 'node:crypto'

/** One broker address, parsed once: what the link dials, and how it is shown (never with credentials). */
export interface Broker {
  protocol: 'mqtt' | 'mqtts'
  host: string
  port: number
  /** False when the URL names no port (the port is then the protocol's default). */
  portGiven: boolean
  /** From the URL (`mqtt://user:pass@host`): overrides the configured credentials for this broker. */
  username?: string
  password?: string
  /** `mqtts://host:port`: for logs and the status page. */
  display: string
}

/** Parses a mqtt:// or mqtts:// URL; throws (with the reason) on anything else. */
export function parseBroker(url: string): Broker {
  let u: URL
  try {
    u = new URL(url.trim())
  } catch {
    throw new Error('not a URL')
  }
  const protocol = u.protocol.replace(/:$/, '')
  if (protocol !== 'mqtt' && protocol !== 'mqtts') throw new Error('not mqtt:// or mqtts://')
  // URL keeps IPv6 literals in brackets; the socket wants them bare.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
  if (!host) throw new Error('no host')
  const port = u.port ? Number(u.port) : protocol === 'mqtts' ? 8883 : 1883
  return {
    protocol,
    host,
    port,
    portGiven: u.port !== '',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    display: `${protocol}://${u.hostname}:${port}`,
  }
}

/** The same broker spelled twice (`mqtt://a` and `mqtt://a:1883`) counts once; the first spelling is kept. */
export function dedupeBrokerUrls(urls: readonly string[]): string[] {
  const seen = new Set<string>()
  const out: string[] = []
  for (const url of urls) {
    const b = parseBroker(url)
    const key = `${b.display}|${b.username ?? ''}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(url.trim())
  }
  return out
}

/**
 * Where in the list a device starts: hashed from its id, so the boxes of a province spread over the brokers, and
 * a box comes back to the same first broker after a restart (its logs stay readable).
 */
export function startIndex(deviceId: string, count: number): number {
  if (count <= 1) return 0
  return createHash('sha256').update(deviceId).digest().readUInt32BE(0) % count
}

export const FAILOVER_BACKOFF_MIN_MS = 1_000
export const FAILOVER_BACKOFF_MAX_MS = 60_000
/** mqtt.js reads a reconnectPeriod of 0 as "never reconnect": the shortest wait is this. */
export const FAILOVER_FLOOR_MS = 50

/**
 * With several brokers: exponential backoff (×2 per attempt, 1 s → 60 s cap) with full jitter, a wait drawn
 * from [0, step]. The next attempt goes to another broker, so a short wait costs nothing, and full jitter
 * spreads a whole province reconnecting at once over the whole window instead of its upper half.
 */
export function fullJitterMs(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(FAILOVER_BACKOFF_MAX_MS, FAILOVER_BACKOFF_MIN_MS * 2 ** Math.max(0, attempt))
  return Math.max(FAILOVER_FLOOR_MS, Math.floor(random() * step))
}

/** Round-robin over the brokers from the device's start index; `next()` is the broker to dial now. */
export class BrokerRotation {
  readonly brokers: readonly Broker[]
  private i: number
  private started = false

  constructor(urls: readonly string[], deviceId: string) {
    if (urls.length === 0) throw new Error('no broker')
    this.brokers = urls.map(parseBroker)
    this.i = startIndex(deviceId, this.brokers.length)
  }

  /** The first call gives the start broker, each later call the one after the last. */
  next(): Broker {
    if (this.started) this.i = (this.i + 1) % this.brokers.length
    this.started = true
    return this.brokers[this.i] as Broker
  }
}
