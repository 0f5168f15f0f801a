import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { CHANNEL_MESSAGES, DEVICE_UP_CHANNELS, type DeviceUpChannel, type TopicTree } from '@loa/shared'
import { addressKey } from '@loa/shared/address-key'
import type { Client } from 'aedes'
import type { LimitVar } from '../server/limits-config.js'
import { MqttPacketMeter, type PacketKind, type PacketLimit } from './packet-meter.js'

/** Limits on every connection to the embedded broker (docs/security.md, "Limits"). */
export interface BrokerLimits {
  /** Largest CONNECT, and largest packet of any kind before the login succeeded (bytes after the fixed header). */
  connectMaxBytes: number
  /** A connection must have logged in this long after the TCP accept (TLS handshake included), or it is closed. */
  loginTimeoutMs: number
  /** Connections from one address (IPv4, or IPv6 /64) that have not logged in yet; more are closed at accept. */
  maxPendingPerAddress: number
  /** Failed logins one address may make at once before it is throttled (access/login-throttle.ts). */
  loginFailureBurst: number
  /** One failed login is forgiven every this many ms. */
  loginFailureRefillMs: number
  /** A throttled address waits this long for each refusal. */
  loginFailureDelayMs: number
  /** Refusals logged one by one per minute; beyond that a summary line per minute. */
  refusalLogPerMinute: number
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  connectMaxBytes: 8 * 1024,
  loginTimeoutMs: 10_000,
  maxPendingPerAddress: 256,
  loginFailureBurst: 20,
  loginFailureRefillMs: 5_000,
  loginFailureDelayMs: 2_000,
  refusalLogPerMinute: 30,
}

/** The environment variables of the broker limits (read by config.ts with server/limits-config.ts). */
export const BROKER_LIMIT_VARS: readonly LimitVar<BrokerLimits>[] = [
  ['LOA_MQTT_MAX_CONNECT_BYTES', 'connectMaxBytes', 256, 1_048_576],
  ['LOA_MQTT_LOGIN_TIMEOUT_MS', 'loginTimeoutMs', 100, 300_000],
  ['LOA_MQTT_MAX_PENDING_PER_ADDRESS', 'maxPendingPerAddress', 1, 100_000],
  ['LOA_MQTT_LOGIN_FAILURE_BURST', 'loginFailureBurst', 1, 100_000],
  ['LOA_MQTT_LOGIN_FAILURE_REFILL_MS', 'loginFailureRefillMs', 1, 3_600_000],
  ['LOA_MQTT_LOGIN_FAILURE_DELAY_MS', 'loginFailureDelayMs', 0, 60_000],
  ['LOA_MQTT_REFUSAL_LOG_PER_MIN', 'refusalLogPerMinute', 0, 100_000],
]

/** SUBSCRIBE, UNSUBSCRIBE, acknowledgements, pings of a logged-in client: a device's 35 topics take about 3 KiB. */
export const CONTROL_PACKET_MAX_BYTES = 16 * 1024
/** PUBLISH variable header around the payload: topic length (2), packet id (2); the topic itself is added. */
const PUBLISH_OVERHEAD = 4
/** The control plane's own publishes: its largest message (a desired state) on any topic up to MQTT's 64 KiB. */
export const CONTROL_PLANE_PUBLISH_MAX_BYTES =
  Math.max(...Object.values(CHANNEL_MESSAGES).map((m) => m.maxBytes)) + PUBLISH_OVERHEAD + 65_535

export type LimitedIdentity =
  | { kind: 'device'; deviceId: string }
  | { kind: 'control-plane' }
  | { kind: 'monitor' }

const UP = new Set<string>(DEVICE_UP_CHANNELS)

/**
 * The largest packet an identity may send, per kind. A device publishes on its own upward channels at most what
 * that channel's message may weigh (CHANNEL_MESSAGES, which the agent also enforces before sending), plus the
 * topic; anything else it sends is a small control packet. Before the login only `connectMaxBytes`.
 */
export function packetLimitFor(
  topics: TopicTree,
  limits: Pick<BrokerLimits, 'connectMaxBytes'>,
  identity: LimitedIdentity | undefined,
): PacketLimit {
  if (!identity) return () => limits.connectMaxBytes
  if (identity.kind === 'control-plane') {
    return (kind) => (kind === 'publish' ? CONTROL_PLANE_PUBLISH_MAX_BYTES : 4 * CONTROL_PACKET_MAX_BYTES)
  }
  if (identity.kind === 'monitor') return () => CONTROL_PACKET_MAX_BYTES
  const deviceId = identity.deviceId
  return (kind, topic) => {
    if (kind !== 'publish') return CONTROL_PACKET_MAX_BYTES
    if (topic === null) return null
    const t = topics.parse(topic)
    if (t?.kind !== 'device' || t.deviceId !== deviceId || !UP.has(t.channel)) return CONTROL_PACKET_MAX_BYTES
    return (
      CHANNEL_MESSAGES[t.channel as DeviceUpChannel].maxBytes + PUBLISH_OVERHEAD + Buffer.byteLength(topic)
    )
  }
}

export interface GuardRefusal {
  action: 'connect' | 'publish' | 'subscribe' | 'packet'
  reason: 'too-large' | 'malformed' | 'timeout' | 'too-many-pending'
  address: string
  client: Client | null
  topic?: string
  declared?: number
  limit?: number
}

interface Pending {
  address: string
  timer: NodeJS.Timeout
  raw: Socket
}

const ACTION_OF: Record<PacketKind, GuardRefusal['action']> = {
  connect: 'connect',
  publish: 'publish',
  subscribe: 'subscribe',
  unsubscribe: 'subscribe',
  other: 'packet',
}

/** Either end of a TCP connection's identity: the TLS socket the broker reads and its raw socket share it. */
const endpoint = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }) =>
  `${s.remoteAddress ?? '?'}|${s.remotePort ?? '?'}`

/**
 * What the embedded broker checks on every connection before aedes buffers anything: how many connections one
 * address has waiting to log in, how long a connection may take to log in, and the size every packet declares
 * in its fixed header (refused and the socket destroyed before the body is read).
 */
export class BrokerConnectionGuard {
  private readonly pending = new Map<string, Pending>()
  private readonly pendingByAddress = new Map<string, number>()

  constructor(
    private readonly o: {
      limits: BrokerLimits
      /** The packet limit of a client as it is now (its identity once logged in). */
      limitOf: (client: Client | undefined) => PacketLimit
      refuse: (r: GuardRefusal) => void
    },
  ) {}

  /** Every accepted TCP socket (for TLS the raw one, before the handshake). */
  admit(raw: Socket): void {
    const address = addressKey(raw.remoteAddress)
    const waiting = this.pendingByAddress.get(address) ?? 0
    if (waiting >= this.o.limits.maxPendingPerAddress) {
      this.o.refuse({ action: 'connect', reason: 'too-many-pending', address, client: null })
      raw.destroy()
      return
    }
    const key = endpoint(raw)
    this.pendingByAddress.set(address, waiting + 1)
    const timer = setTimeout(() => {
      const client = (raw as Socket & { client?: Client }).client ?? null
      this.o.refuse({ action: 'connect', reason: 'timeout', address, client })
      raw.destroy()
    }, this.o.limits.loginTimeoutMs)
    timer.unref()
    this.pending.set(key, { address, timer, raw })
    raw.once('close', () => this.settle(key, raw))
  }

  /** A client logged in: it no longer counts as waiting, and its login timer stops. */
  loggedIn(client: Client): void {
    const entry = this.pending.get(endpoint(client.conn as Socket))
    if (entry) this.settle(endpoint(client.conn as Socket), entry.raw)
  }

  private settle(key: string, raw: Socket): void {
    const entry = this.pending.get(key)
    if (!entry || entry.raw !== raw) return
    clearTimeout(entry.timer)
    this.pending.delete(key)
    const left = (this.pendingByAddress.get(entry.address) ?? 1) - 1
    if (left <= 0) this.pendingByAddress.delete(entry.address)
    else this.pendingByAddress.set(entry.address, left)
  }

  /**
   * Meters the bytes aedes reads from `conn`, right after `broker.handle(conn)`. aedes reads with `read()` in
   * paused mode (its 'readable' listener), and a stream in that mode emits 'data' for every chunk `read()`
   * returns without being switched to flowing (Node's stream docs): the meter sees each chunk just before the
   * parser does, and destroys the socket at the first header over its limit.
   */
  meter(conn: Duplex & { client?: Client; remoteAddress?: string }): void {
    if (conn.readableFlowing !== false) {
      // Not the paused mode the meter relies on: refuse rather than let packets through unmetered.
      conn.destroy(new Error('broker connection guard: unexpected stream mode'))
      return
    }
    const address = addressKey(conn.remoteAddress)
    const meter = new MqttPacketMeter((kind, topic) => this.o.limitOf(conn.client)(kind, topic))
    const onData = (chunk: Buffer) => {
      const v = meter.feed(chunk)
      if (!v) return
      conn.off('data', onData)
      const client = conn.client ?? null
      if (v.kind === 'malformed') {
        this.o.refuse({ action: 'packet', reason: 'malformed', address, client })
      } else {
        this.o.refuse({
          action: ACTION_OF[v.kind],
          reason: 'too-large',
          address,
          client,
          declared: v.declared,
          limit: v.limit,
          ...(v.topic !== null ? { topic: v.topic } : {}),
        })
      }
      conn.destroy()
    }
    conn.on('data', onData)
  }
}
