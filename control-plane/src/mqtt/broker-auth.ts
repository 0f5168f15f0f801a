import type { TLSSocket } from 'node:tls'
import { DEVICE_DOWN_CHANNELS, DEVICE_UP_CHANNELS, isValidId, type TopicTree } from '@loa/shared'
import { addressKey } from '@loa/shared/address-key'
import type { Aedes, AuthenticateError, Client } from 'aedes'
import type { Logger } from 'pino'
import { Counter, type Registry } from 'prom-client'
import { LoginThrottle } from '../access/login-throttle.js'
import type { DeviceCredentials } from '../devices/credentials.js'
import type { BrokerAuthHooks } from './broker.js'
import {
  type BrokerIdentity,
  CONTROL_PLANE_USERNAME,
  MONITOR_USERNAME,
  samePassword,
} from './broker-identity.js'
import {
  type BrokerLimits,
  DEFAULT_BROKER_LIMITS,
  type GuardRefusal,
  type LimitedIdentity,
  packetLimitFor,
} from './broker-limits.js'
import { CONTROL_PLANE_CLIENT_ID } from './link.js'
import type { PacketLimit } from './packet-meter.js'
import { RefusalLog } from './refusal-log.js'

type Identity = LimitedIdentity

/** `packet`: a packet other than CONNECT, PUBLISH or (UN)SUBSCRIBE (too large or malformed). */
export type RefusalAction = 'connect' | 'publish' | 'subscribe' | 'packet'

/** A refused connection, publish or subscription: logged, counted and (for a known device) recorded as an event. */
export interface Refusal {
  action: RefusalAction
  reason: string
  /** The device the client is, or claims to be; null for other identities. */
  deviceId: string | null
  clientId: string
  topic?: string
  /** The source address (IPv4, or IPv6 /64) the limits count under. */
  address?: string
  /** For `throttled`: the reason the login failed. */
  cause?: string
}

export interface BrokerAuthOptions {
  topics: TopicTree
  credentials: Pick<DeviceCredentials, 'verify' | 'state'>
  controlPlane: BrokerIdentity
  monitor?: BrokerIdentity | null
  /** Unit ids from the root down to the device's unit (its readable unit command topics); null: unknown device. */
  unitsOf: (deviceId: string) => Promise<string[] | null>
  log: Logger
  registry?: Registry
  onRefusal?: (r: Refusal) => void
  /** Accept TLS client certificates: the certificate's CN is the device id, no password needed. */
  clientCertificates?: boolean
  /** Login throttling, packet sizes and refusal logging (defaults: DEFAULT_BROKER_LIMITS). */
  limits?: BrokerLimits
}

/** The MQTT client id a device must use: one id per device, so nobody can take over another device's session. */
export const deviceClientId = (deviceId: string) => `loa-agent-${deviceId}`

const UP = new Set<string>(DEVICE_UP_CHANNELS)
const DOWN = new Set<string>(DEVICE_DOWN_CHANNELS)

/** The address a client's connection counts under (addressKey), whatever stream type aedes was given. */
const addressOf = (client: Client) => addressKey((client.conn as { remoteAddress?: string }).remoteAddress)

function authError(code: 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError
}

/**
 * Least privilege on the embedded aedes broker. Devices authenticate with their own credentials (or a client
 * certificate), publish only on their own upward topics, and read only their own downward topics and the command
 * topics of the units above them. The control plane and the monitoring identity have their own credentials.
 * Anonymous clients are refused.
 */
export class BrokerAuth {
  private readonly identities = new WeakMap<Client, Identity>()
  private readonly clients = new Map<string, Set<Client>>()
  /** Unit topics each device may read, refreshed on subscribe and when its desired state changes. */
  private readonly units = new Map<string, Set<string>>()
  private refusals: Counter<'action' | 'reason'> | null = null
  readonly limits: BrokerLimits
  private readonly throttle: LoginThrottle
  private readonly refusalLog: RefusalLog

  constructor(private readonly o: BrokerAuthOptions) {
    if (o.registry) this.useRegistry(o.registry)
    this.limits = o.limits ?? DEFAULT_BROKER_LIMITS
    this.throttle = new LoginThrottle({
      burst: this.limits.loginFailureBurst,
      refillMs: this.limits.loginFailureRefillMs,
      delayMs: this.limits.loginFailureDelayMs,
      // Held refusals still wait to log in: leave most of the address's waiting room to other clients.
      maxHeldPerAddress: Math.max(1, Math.floor(this.limits.maxPendingPerAddress / 4)),
    })
    this.refusalLog = new RefusalLog({ log: o.log, perMinute: this.limits.refusalLogPerMinute })
  }

  /** Counts refusals in `loa_broker_refusals_total{action,reason}`. */
  useRegistry(registry: Registry): void {
    this.refusals = new Counter({
      name: 'loa_broker_refusals_total',
      help: 'Connections, publishes and subscriptions refused by the broker',
      labelNames: ['action', 'reason'],
      registers: [registry],
    })
  }

  hooks(): BrokerAuthHooks {
    return {
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          (r) => {
            if (r === null) return done(null, true)
            if (r.holdMs === 0) return done(r.err, false)
            // A throttled address: answer late (the connection keeps counting as waiting to log in meanwhile).
            setTimeout(() => {
              this.throttle.release(r.address)
              done(r.err, false)
            }, r.holdMs).unref()
          },
          (err) => {
            this.o.log.error({ err }, 'broker authentication failed')
            done(authError(5, 'authentication error'), false)
          },
        )
      },
      authorizePublish: (client, packet, done) => done(this.authorizePublish(client, packet)),
      authorizeSubscribe: (client, sub, done) => {
        this.authorizeSubscribe(client, sub.topic).then(
          (ok) => done(null, ok ? sub : null),
          () => done(null, null),
        )
      },
      authorizeForward: (client, packet) => (this.mayReceive(client, packet.topic) ? packet : null),
      attach: (broker) => this.attach(broker),
    }
  }

  /** Tracks connections per device, so a rotation or revocation can close them. */
  private attach(broker: Aedes): void {
    broker.on('clientDisconnect', (client) => {
      const id = this.identities.get(client)
      if (id?.kind !== 'device') return
      const set = this.clients.get(id.deviceId)
      set?.delete(client)
      if (set?.size === 0) this.clients.delete(id.deviceId)
    })
  }

  /** Closes every connection of a device (after its credentials were rotated or revoked). */
  disconnect(deviceId: string): number {
    const set = this.clients.get(deviceId)
    if (!set) return 0
    this.clients.delete(deviceId)
    for (const c of set) c.close()
    this.o.log.info({ deviceId, connections: set.size }, 'device disconnected from the broker')
    return set.size
  }

  isConnected(deviceId: string): boolean {
    return (this.clients.get(deviceId)?.size ?? 0) > 0
  }

  /** The units above a device changed (its desired state lists them): unit topics it no longer may read stop. */
  setUnits(deviceId: string, units: readonly string[]): void {
    this.units.set(deviceId, new Set(units))
  }

  /** Logs (rate-limited), counts and reports one refusal. */
  refuse(r: Refusal): void {
    this.refusalLog.warn(r, `broker refused ${r.action}: ${r.reason}`)
    this.refusals?.inc({ action: r.action, reason: r.reason })
    this.o.onRefusal?.(r)
  }

  /** A refusal by the connection guard (mqtt/broker-limits.ts), with the client's identity when it has logged in. */
  refuseConnection(g: GuardRefusal): void {
    const id = g.client ? this.identities.get(g.client) : undefined
    this.refuse({
      action: g.action,
      reason: g.reason,
      deviceId: id?.kind === 'device' ? id.deviceId : null,
      clientId: g.client?.id ?? '',
      address: g.address,
      ...(g.topic !== undefined ? { topic: g.topic } : {}),
    })
  }

  /** The packet limit of a client as it is now: its identity's once logged in, the CONNECT limit before. */
  packetLimit(client: Client | undefined): PacketLimit {
    return packetLimitFor(this.o.topics, this.limits, client ? this.identities.get(client) : undefined)
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<{ err: AuthenticateError; holdMs: number; address: string } | null> {
    const clientId = client.id
    const address = addressOf(client)
    const fail = (code: 4 | 5, reason: string, deviceId: string | null) => {
      // Every failure counts against its address; once it has used up its burst, answers come late.
      const t = this.throttle.failed(address)
      this.refuse({
        action: 'connect',
        reason: t.throttled ? 'throttled' : reason,
        deviceId,
        clientId,
        address,
        ...(t.throttled ? { cause: reason } : {}),
      })
      return { err: authError(code, reason), holdMs: t.holdMs, address }
    }
    // Refused by the connection guard while aedes was parsing the same chunk (e.g. an oversized CONNECT).
    if (client.conn.destroyed) return { err: authError(5, 'connection closed'), holdMs: 0, address }
    const cert = this.certificateDevice(client)
    if (cert) {
      if (username && username !== cert) return fail(5, 'certificate-mismatch', cert)
      if (clientId !== deviceClientId(cert)) return fail(5, 'client-id', cert)
      const state = await this.o.credentials.state(cert)
      if (state !== 'active') return fail(5, state === 'revoked' ? 'revoked' : 'unknown-device', cert)
      return this.accept(client, { kind: 'device', deviceId: cert })
    }
    if (!username) return fail(5, 'anonymous', null)
    if (username === this.o.controlPlane.username || username === CONTROL_PLANE_USERNAME) {
      if (
        username !== this.o.controlPlane.username ||
        !samePassword(password, this.o.controlPlane.password)
      ) {
        return fail(4, 'bad-credentials', null)
      }
      return this.accept(client, { kind: 'control-plane' })
    }
    if (username === MONITOR_USERNAME) {
      const m = this.o.monitor
      if (!m || !samePassword(password, m.password)) return fail(4, 'bad-credentials', null)
      if (clientId === CONTROL_PLANE_CLIENT_ID || clientId.startsWith('loa-agent-')) {
        return fail(5, 'client-id', null)
      }
      return this.accept(client, { kind: 'monitor' })
    }
    if (!isValidId(username)) return fail(4, 'bad-credentials', null)
    // One client id per device: taking another device's id would end that device's session.
    if (clientId !== deviceClientId(username)) return fail(5, 'client-id', username)
    const secret = password?.toString('utf8') ?? ''
    if (!(await this.o.credentials.verify(username, secret))) {
      const state = await this.o.credentials.state(username)
      return fail(
        4,
        state === 'revoked' ? 'revoked' : state === 'none' ? 'unknown-device' : 'bad-credentials',
        username,
      )
    }
    return this.accept(client, { kind: 'device', deviceId: username })
  }

  private accept(client: Client, id: Identity): null {
    this.identities.set(client, id)
    if (id.kind === 'device') {
      const set = this.clients.get(id.deviceId) ?? new Set()
      set.add(client)
      this.clients.set(id.deviceId, set)
    }
    return null
  }

  /** The device id of a verified TLS client certificate (CN), when certificate logins are on. */
  private certificateDevice(client: Client): string | null {
    if (!this.o.clientCertificates) return null
    const conn = client.conn as Partial<TLSSocket>
    if (typeof conn.getPeerCertificate !== 'function' || conn.authorized !== true) return null
    const cn = conn.getPeerCertificate().subject?.CN
    const id = Array.isArray(cn) ? cn[0] : cn
    return typeof id === 'string' && isValidId(id) ? id : null
  }

  private authorizePublish(
    client: Client | null,
    packet: { topic: string; retain: boolean; payload: Buffer | string },
  ): Error | null {
    // Published by the broker itself (e.g. a will restored from persistence).
    if (!client) return null
    const tooLarge = this.publishTooLarge(client, packet)
    if (tooLarge) return tooLarge
    const id = this.identities.get(client)
    const refuse = (reason: string, deviceId: string | null) => {
      this.refuse({ action: 'publish', reason, deviceId, clientId: client.id, topic: packet.topic })
      return new Error(`publish to ${packet.topic} not authorised`)
    }
    if (!id) return refuse('not-authenticated', null)
    // The control plane may publish anywhere but on the broker's own `$` topics (benchmarks use their own tree).
    if (id.kind === 'control-plane') return packet.topic.startsWith('$') ? refuse('system-topic', null) : null
    if (id.kind === 'monitor') return refuse('read-only', null)
    const t = this.o.topics.parse(packet.topic)
    if (t?.kind !== 'device' || t.deviceId !== id.deviceId || !UP.has(t.channel)) {
      return refuse('topic', id.deviceId)
    }
    if (packet.retain && t.channel !== 'presence') return refuse('retain', id.deviceId)
    return null
  }

  /**
   * The size check on a whole PUBLISH, for one that arrived within a single read and so reached the parser
   * whole; the connection guard cuts every larger one from its header. Over the limit: refused and disconnected.
   */
  private publishTooLarge(client: Client, packet: { topic: string; payload: Buffer | string }): Error | null {
    if (client.conn.destroyed) return new Error('connection closed')
    const size = 4 + Buffer.byteLength(packet.topic) + Buffer.byteLength(packet.payload)
    const limit = this.packetLimit(client)('publish', packet.topic) ?? 0
    if (size <= limit) return null
    const id = this.identities.get(client)
    this.refuse({
      action: 'publish',
      reason: 'too-large',
      deviceId: id?.kind === 'device' ? id.deviceId : null,
      clientId: client.id,
      topic: packet.topic,
      address: addressOf(client),
    })
    client.conn.destroy()
    return new Error(`publish to ${packet.topic} too large`)
  }

  private async authorizeSubscribe(client: Client, topic: string): Promise<boolean> {
    const id = this.identities.get(client)
    const refuse = (reason: string, deviceId: string | null) => {
      this.refuse({ action: 'subscribe', reason, deviceId, clientId: client.id, topic })
      return false
    }
    if (!id) return refuse('not-authenticated', null)
    if (id.kind === 'control-plane') return true
    if (id.kind === 'monitor') {
      return topic.startsWith(`${this.o.topics.base}/`) ? true : refuse('outside-root', null)
    }
    // No wildcards for devices: only exact topics, which `parse` accepts only without `+` or `#`.
    const t = this.o.topics.parse(topic)
    if (t?.kind === 'device' && t.deviceId === id.deviceId && DOWN.has(t.channel)) return true
    if (t?.kind === 'unit') {
      const units = await this.o.unitsOf(id.deviceId)
      if (units) this.units.set(id.deviceId, new Set(units))
      if (units?.includes(t.unitId)) return true
    }
    return refuse('topic', id.deviceId)
  }

  /** Checked on every delivery: catches a unit a device has left since it subscribed. */
  private mayReceive(client: Client, topic: string): boolean {
    const id = this.identities.get(client)
    if (!id) return false
    if (id.kind !== 'device') return true
    const t = this.o.topics.parse(topic)
    if (t?.kind === 'device') return t.deviceId === id.deviceId && DOWN.has(t.channel)
    if (t?.kind === 'unit') return this.units.get(id.deviceId)?.has(t.unitId) ?? false
    return false
  }
}
