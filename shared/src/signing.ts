import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto'
import canonicalize from 'canonicalize'
import type { KeyLink, Signature } from './envelope.js'

/**
 * Ed25519 signatures over envelopes. The signed bytes are the RFC 8785 (JCS) canonical JSON of the envelope
 * without its `sig` field, so any JSON encoder on either side produces the same bytes. Public keys travel as
 * base64 of the raw 32-byte key; a key id is the first 16 hex digits of the key's SHA-256.
 */

export interface PublicKeyInfo {
  keyId: string
  /** base64 of the raw 32-byte Ed25519 public key */
  publicKey: string
}

export interface Signer extends PublicKeyInfo {
  privateKey: KeyObject
  /** Key links from the first key to this one, carried in every signature so boxes can follow rotations. */
  chain?: KeyLink[]
}

type Signable = { sig?: Signature } & Record<string, unknown>

export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value)
  if (text === undefined) throw new Error('value cannot be canonicalised')
  return Buffer.from(text, 'utf8')
}

/** The bytes an envelope's signature covers: everything but `sig`. */
export function envelopeBytes(msg: Signable): Buffer {
  const { sig: _sig, ...rest } = msg
  return canonicalBytes(rest)
}

export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' })
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 key')
  return Buffer.from(jwk.x, 'base64url')
}

export function keyIdOf(publicKeyB64: string): string {
  return createHash('sha256').update(Buffer.from(publicKeyB64, 'base64')).digest('hex').slice(0, 16)
}

/** Parses a base64 raw Ed25519 public key; throws on anything else. */
export function publicKeyFromBase64(b64: string): KeyObject {
  const raw = Buffer.from(b64, 'base64')
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes')
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' })
}

export function publicKeyInfo(privateOrPublic: KeyObject): PublicKeyInfo {
  const pub = privateOrPublic.type === 'private' ? createPublicKey(privateOrPublic) : privateOrPublic
  const publicKey = rawPublicKey(pub).toString('base64')
  return { keyId: keyIdOf(publicKey), publicKey }
}

export function generateSigningKey(): { privateKey: KeyObject; privateKeyPem: string } & PublicKeyInfo {
  const { privateKey } = generateKeyPairSync('ed25519')
  return {
    privateKey,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    ...publicKeyInfo(privateKey),
  }
}

export function signerFromPem(pem: string, chain?: KeyLink[]): Signer {
  const privateKey = createPrivateKey(pem)
  return { privateKey, ...publicKeyInfo(privateKey), ...(chain && chain.length > 0 ? { chain } : {}) }
}

/** Returns a copy of the envelope with its signature (any previous `sig` is replaced). */
export function signEnvelope<M extends Signable>(msg: M, signer: Signer): M {
  const value = sign(null, envelopeBytes(msg), signer.privateKey).toString('base64')
  const sig: Signature = {
    alg: 'ed25519',
    keyId: signer.keyId,
    value,
    ...(signer.chain && signer.chain.length > 0 ? { chain: signer.chain } : {}),
  }
  return { ...msg, sig }
}

export type VerifyFailure = 'unsigned' | 'unknown-key' | 'bad-signature'
export type VerifyResult = { ok: true; keyId: string } | { ok: false; reason: VerifyFailure }

/** Checks an envelope's signature against the key `keyFor` returns for its key id (null: not trusted). */
export function verifyEnvelope(msg: Signable, keyFor: (keyId: string) => KeyObject | null): VerifyResult {
  const sig = msg.sig
  if (!sig) return { ok: false, reason: 'unsigned' }
  const key = keyFor(sig.keyId)
  if (!key) return { ok: false, reason: 'unknown-key' }
  let good = false
  try {
    good = verify(null, envelopeBytes(msg), key, Buffer.from(sig.value, 'base64'))
  } catch {
    good = false
  }
  return good ? { ok: true, keyId: sig.keyId } : { ok: false, reason: 'bad-signature' }
}

/** What a key link's signature covers: the new key, named by its predecessor. */
function linkBytes(link: Omit<KeyLink, 'signature'>): Buffer {
  return canonicalBytes({
    purpose: 'loa-key-link',
    keyId: link.keyId,
    publicKey: link.publicKey,
    previousKeyId: link.previousKeyId,
    createdAt: link.createdAt,
  })
}

/** The previous key vouches for the next one. */
export function makeKeyLink(previous: Signer, next: PublicKeyInfo, createdAt = new Date()): KeyLink {
  const body = {
    keyId: next.keyId,
    publicKey: next.publicKey,
    previousKeyId: previous.keyId,
    createdAt: createdAt.toISOString(),
  }
  return { ...body, signature: sign(null, linkBytes(body), previous.privateKey).toString('base64') }
}

export type ChainResult =
  | { ok: true; key: PublicKeyInfo; walked: KeyLink[] }
  | { ok: false; reason: 'no-path' | 'forged-link' }

/**
 * Walks a chain of key links from the trusted key `from` to the key `targetKeyId`: each step must be signed by the
 * key before it and name the right key id for its public key. Links that do not lie on the path are ignored.
 */
export function walkKeyChain(
  from: PublicKeyInfo,
  chain: readonly KeyLink[],
  targetKeyId: string,
): ChainResult {
  let current = from
  const walked: KeyLink[] = []
  for (let step = 0; step <= chain.length; step++) {
    if (current.keyId === targetKeyId) return { ok: true, key: current, walked }
    const next = chain.find((l) => l.previousKeyId === current.keyId)
    if (!next) return { ok: false, reason: 'no-path' }
    let good = false
    try {
      good =
        keyIdOf(next.publicKey) === next.keyId &&
        verify(
          null,
          linkBytes(next),
          publicKeyFromBase64(current.publicKey),
          Buffer.from(next.signature, 'base64'),
        )
    } catch {
      good = false
    }
    if (!good) return { ok: false, reason: 'forged-link' }
    walked.push(next)
    current = { keyId: next.keyId, publicKey: next.publicKey }
  }
  return { ok: false, reason: 'no-path' }
}
