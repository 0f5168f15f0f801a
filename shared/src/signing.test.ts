import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, serializeMessage } from './codec.js'
import {
  canonicalBytes,
  generateSigningKey,
  keyIdOf,
  makeKeyLink,
  publicKeyFromBase64,
  type Signer,
  signEnvelope,
  signerFromPem,
  verifyEnvelope,
  walkKeyChain,
} from './signing.js'

const cmd = () =>
  encodeMessage('cmd', 'control-plane', {
    commandId: 'cmd-0001',
    kind: 'ping',
    deadline: '2026-11-27T01:00:00Z',
    recipients: { devices: ['pi-1'], units: [] },
  })

const signer = (): Signer => {
  const k = generateSigningKey()
  return signerFromPem(k.privateKeyPem)
}

describe('envelope signatures', () => {
  it('canonical bytes do not depend on key order (RFC 8785)', () => {
    expect(canonicalBytes({ b: 1, a: [2, { d: 'x', c: 1.5 }] }).toString()).toBe(
      '{"a":[2,{"c":1.5,"d":"x"}],"b":1}',
    )
  })

  it('a signed envelope verifies with the key of its key id, survives the wire, and validates', () => {
    const s = signer()
    expect(s.keyId).toBe(keyIdOf(s.publicKey))
    expect(s.keyId).toMatch(/^[0-9a-f]{16}$/)
    const signed = signEnvelope(cmd(), s)
    const wire = decodeMessage('cmd', serializeMessage('cmd', signed))
    const keys = (id: string) => (id === s.keyId ? publicKeyFromBase64(s.publicKey) : null)
    expect(verifyEnvelope(wire, keys)).toEqual({ ok: true, keyId: s.keyId })
  })

  it('refuses unsigned, unknown-key, tampered and wrongly signed envelopes', () => {
    const s = signer()
    const other = signer()
    const keys = (id: string) => (id === s.keyId ? publicKeyFromBase64(s.publicKey) : null)
    expect(verifyEnvelope(cmd(), keys)).toEqual({ ok: false, reason: 'unsigned' })
    expect(verifyEnvelope(signEnvelope(cmd(), other), keys)).toEqual({ ok: false, reason: 'unknown-key' })
    const signed = signEnvelope(cmd(), s)
    const tampered = { ...signed, body: { ...signed.body, deadline: '2027-11-27T01:00:00Z' } }
    expect(verifyEnvelope(tampered, keys)).toEqual({ ok: false, reason: 'bad-signature' })
    // The recipients are inside the signed bytes: re-addressing a captured command breaks its signature.
    const readdressed = { ...signed, body: { ...signed.body, recipients: { devices: ['pi-2'], units: [] } } }
    expect(verifyEnvelope(readdressed, keys)).toEqual({ ok: false, reason: 'bad-signature' })
    // A signature made by another key but claiming this key id.
    const forged = {
      ...signEnvelope(cmd(), other),
      sig: { ...signEnvelope(cmd(), other).sig, keyId: s.keyId },
    }
    expect(verifyEnvelope(forged as typeof signed, keys)).toEqual({ ok: false, reason: 'bad-signature' })
  })
})

describe('key chain', () => {
  it('walks from an old pinned key to the newest through links signed by each predecessor', () => {
    const k0 = signer()
    const k1 = signer()
    const k2 = signer()
    const chain = [makeKeyLink(k0, k1), makeKeyLink(k1, k2)]
    const r = walkKeyChain(k0, chain, k2.keyId)
    expect(r.ok && r.key.keyId).toBe(k2.keyId)
    expect(r.ok && r.walked.length).toBe(2)
    // Already at the target: nothing to walk.
    expect(walkKeyChain(k2, chain, k2.keyId)).toMatchObject({ ok: true, walked: [] })
    // From the newest key there is no way back to an older one.
    expect(walkKeyChain(k2, chain, k0.keyId)).toEqual({ ok: false, reason: 'no-path' })
  })

  it('refuses a forged link (signed by a key that is not the predecessor)', () => {
    const k0 = signer()
    const attacker = signer()
    const forged = { ...makeKeyLink(attacker, attacker), previousKeyId: k0.keyId }
    expect(walkKeyChain(k0, [forged], attacker.keyId)).toEqual({ ok: false, reason: 'forged-link' })
    // A genuine link whose public key was swapped.
    const k1 = signer()
    const swapped = { ...makeKeyLink(k0, k1), publicKey: attacker.publicKey }
    expect(walkKeyChain(k0, [swapped], k1.keyId)).toEqual({ ok: false, reason: 'forged-link' })
  })

  it('carries the chain in the signature without changing the signed bytes', () => {
    const k0 = signer()
    const k1 = signer()
    const withChain: Signer = { ...k1, chain: [makeKeyLink(k0, k1)] }
    const signed = signEnvelope(cmd(), withChain)
    const wire = decodeMessage('cmd', serializeMessage('cmd', signed))
    expect(wire.sig?.chain?.[0]?.keyId).toBe(k1.keyId)
    const keys = (id: string) => (id === k1.keyId ? publicKeyFromBase64(k1.publicKey) : null)
    expect(verifyEnvelope(wire, keys).ok).toBe(true)
  })
})
