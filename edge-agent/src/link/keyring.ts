import type { KeyObject } from 'node:crypto'
import type { KeyLink } from '@loa/shared'
import { type PublicKeyInfo, publicKeyFromBase64, walkKeyChain } from '@loa/shared/signing'
import { type Db, kvGet, kvSet } from '../storage/db.js'

const KV_KEY = 'control_plane_key'

interface Stored extends PublicKeyInfo {
  /** The key pinned in the config when this one was reached: a re-provisioned box starts again from its pin. */
  pinnedKeyId: string
}

export type KeyLookup =
  | { ok: true; key: KeyObject; keyId: string; advanced: boolean }
  | { ok: false; reason: 'unknown-key' | 'forged-link' }

/**
 * The control plane's public key this box trusts: the one pinned at provisioning, or a newer one reached through
 * a chain of key links (each signed by its predecessor) and persisted, after which the older key is no longer
 * accepted.
 */
export class Keyring {
  private current: PublicKeyInfo
  private readonly pinnedKeyId: string
  private readonly keyObjects = new Map<string, KeyObject>()

  constructor(
    private readonly db: Db,
    pinned: PublicKeyInfo,
  ) {
    this.pinnedKeyId = pinned.keyId
    const raw = kvGet(db, KV_KEY)
    const stored = raw ? (JSON.parse(raw) as Stored) : null
    this.current = stored && stored.pinnedKeyId === pinned.keyId ? stored : pinned
  }

  get keyId(): string {
    return this.current.keyId
  }

  private keyObject(k: PublicKeyInfo): KeyObject {
    let o = this.keyObjects.get(k.keyId)
    if (!o) {
      o = publicKeyFromBase64(k.publicKey)
      this.keyObjects.set(k.keyId, o)
    }
    return o
  }

  /**
   * The key for a signature's key id: the current key, or a newer one the chain leads to from it. Nothing is
   * persisted here: call `advance` once a message signed by the new key has verified.
   */
  lookup(keyId: string, chain: readonly KeyLink[] | undefined): KeyLookup & { info?: PublicKeyInfo } {
    if (keyId === this.current.keyId) {
      return { ok: true, key: this.keyObject(this.current), keyId, advanced: false }
    }
    const walk = walkKeyChain(this.current, chain ?? [], keyId)
    if (!walk.ok) return { ok: false, reason: walk.reason === 'forged-link' ? 'forged-link' : 'unknown-key' }
    return { ok: true, key: this.keyObject(walk.key), keyId, advanced: true, info: walk.key }
  }

  /** From now on only `key` is accepted (and keys the chain leads to from it). */
  advance(key: PublicKeyInfo): void {
    const stored: Stored = { keyId: key.keyId, publicKey: key.publicKey, pinnedKeyId: this.pinnedKeyId }
    kvSet(this.db, KV_KEY, JSON.stringify(stored))
    this.current = { keyId: key.keyId, publicKey: key.publicKey }
  }
}
