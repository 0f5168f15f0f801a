import { createHash } from 'node:crypto'
import { notFound } from '../server/errors.js'
import { generateSecret, mosquittoHash, verifyMosquittoHash } from './credentials-hash.js'

/** One device's MQTT credential. The secret itself is never stored: only its `$7$` hash. */
export interface DeviceCredentialRecord {
  deviceId: string
  secretHash: string
  /** 1 for the first issue, +1 per rotation. */
  generation: number
  issuedAt: string
  revokedAt: string | null
}

export interface DeviceCredentialRepository {
  get(deviceId: string): Promise<DeviceCredentialRecord | null>
  /** Inserts or replaces (a rotation, or issuing again after a revocation). */
  put(r: DeviceCredentialRecord): Promise<void>
  revoke(deviceId: string, at: string): Promise<boolean>
  list(): Promise<DeviceCredentialRecord[]>
}

/** What `issue` returns: the only time the password is ever shown. */
export interface IssuedCredentials {
  deviceId: string
  username: string
  password: string
  issuedAt: string
  generation: number
}

export interface CredentialStatus {
  deviceId: string
  username: string
  state: 'none' | 'active' | 'revoked'
  generation: number
  issuedAt: string | null
  revokedAt: string | null
}

export type CredentialChange = 'rotated' | 'revoked'

/** Verified (device, secret, stored hash) triples are remembered this long, so reconnect storms cost no CPU. */
const VERIFIED_TTL_MS = 10 * 60_000
const VERIFIED_MAX = 20_000

/**
 * Issues, rotates and revokes device credentials (device id = cluster id = MQTT username) and verifies them, for
 * the broker and for HTTP Basic auth on media downloads. Every check reads the stored hash, so a revocation or a
 * rotation done by another process (the `loa` command line) takes effect at the next connection.
 */
export class DeviceCredentials {
  private readonly verified = new Map<string, number>()
  private readonly listeners = new Set<(deviceId: string, change: CredentialChange) => void>()

  constructor(
    private readonly o: {
      repo: DeviceCredentialRepository
      clusterExists: (id: string) => Promise<boolean>
    },
  ) {}

  /** Called after a rotation or revocation (the broker disconnects the device's current connection). */
  onChange(listener: (deviceId: string, change: CredentialChange) => void): void {
    this.listeners.add(listener)
  }

  private emit(deviceId: string, change: CredentialChange): void {
    for (const l of this.listeners) l(deviceId, change)
  }

  /** Issues the first credential or rotates the current one (the old secret stops working at once). */
  async issue(deviceId: string): Promise<IssuedCredentials> {
    if (!(await this.o.clusterExists(deviceId))) throw notFound('cluster', deviceId)
    const previous = await this.o.repo.get(deviceId)
    const password = generateSecret()
    const issuedAt = new Date().toISOString()
    const generation = (previous?.generation ?? 0) + 1
    await this.o.repo.put({
      deviceId,
      secretHash: mosquittoHash(password),
      generation,
      issuedAt,
      revokedAt: null,
    })
    if (previous) this.emit(deviceId, 'rotated')
    return { deviceId, username: deviceId, password, issuedAt, generation }
  }

  async revoke(deviceId: string): Promise<CredentialStatus> {
    if (!(await this.o.clusterExists(deviceId))) throw notFound('cluster', deviceId)
    await this.o.repo.revoke(deviceId, new Date().toISOString())
    this.emit(deviceId, 'revoked')
    return this.status(deviceId)
  }

  async status(deviceId: string): Promise<CredentialStatus> {
    if (!(await this.o.clusterExists(deviceId))) throw notFound('cluster', deviceId)
    const r = await this.o.repo.get(deviceId)
    return {
      deviceId,
      username: deviceId,
      state: !r ? 'none' : r.revokedAt ? 'revoked' : 'active',
      generation: r?.generation ?? 0,
      issuedAt: r?.issuedAt ?? null,
      revokedAt: r?.revokedAt ?? null,
    }
  }

  /** What a login for this device may hope for; certificate logins require 'active'. */
  async state(deviceId: string): Promise<CredentialStatus['state']> {
    const r = await this.o.repo.get(deviceId)
    return !r ? 'none' : r.revokedAt ? 'revoked' : 'active'
  }

  async verify(deviceId: string, secret: string): Promise<boolean> {
    const r = await this.o.repo.get(deviceId)
    if (!r || r.revokedAt !== null || secret.length === 0 || secret.length > 1024) return false
    // Keyed by the stored hash too: a rotation makes every remembered result for the old secret useless.
    const key = createHash('sha256').update(`${deviceId}\0${r.secretHash}\0${secret}`).digest('base64')
    const until = this.verified.get(key)
    if (until !== undefined && until > Date.now()) return true
    const ok = await verifyMosquittoHash(secret, r.secretHash)
    if (ok) {
      if (this.verified.size >= VERIFIED_MAX) this.verified.clear()
      this.verified.set(key, Date.now() + VERIFIED_TTL_MS)
    }
    return ok
  }

  list(): Promise<DeviceCredentialRecord[]> {
    return this.o.repo.list()
  }
}
