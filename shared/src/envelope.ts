import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { IsoUtc, MessageId } from './common.js'
import { PROTOCOL_VERSION } from './version.js'

/**
 * A signing-key rotation: the previous key vouches for the next one (signature over the canonical link without
 * `signature`, see signing.ts). A box that pinned an old key walks these links to the newest.
 */
export const KeyLink = Type.Object(
  {
    keyId: Type.String({ minLength: 1, maxLength: 64 }),
    publicKey: Type.String({ minLength: 1, maxLength: 64, description: 'base64 raw Ed25519 key' }),
    previousKeyId: Type.String({ minLength: 1, maxLength: 64 }),
    createdAt: IsoUtc,
    signature: Type.String({ minLength: 1, maxLength: 256, description: 'base64' }),
  },
  { additionalProperties: false },
)
export type KeyLink = Static<typeof KeyLink>

/**
 * The control plane's Ed25519 signature over the canonical envelope without `sig` (docs/security.md). `chain`
 * carries the key links from the first signing key to `keyId` once keys have been rotated.
 */
export const Signature = Type.Object(
  {
    alg: Type.Literal('ed25519'),
    keyId: Type.String({ minLength: 1, maxLength: 64 }),
    value: Type.String({ minLength: 1, maxLength: 256, description: 'base64' }),
    chain: Type.Optional(Type.Array(KeyLink, { maxItems: 32 })),
  },
  { additionalProperties: false },
)
export type Signature = Static<typeof Signature>

/**
 * Every message is an envelope: who sent it, when, which protocol version, and a unique id. The id is what
 * receivers de-duplicate on, and what receipts and acknowledgements refer to.
 * Envelopes are strict; bodies accept unknown fields so a newer peer can add optional ones within a version.
 */
export function envelope<Type extends string, Body extends TSchema>(type: Type, body: Body) {
  return Type.Object(
    {
      v: Type.Literal(PROTOCOL_VERSION),
      type: Type.Literal(type),
      id: MessageId,
      from: Type.String({ minLength: 1, maxLength: 64 }),
      sentAt: IsoUtc,
      body,
      sig: Type.Optional(Signature),
    },
    { additionalProperties: false, $id: `loa.${type}` },
  )
}
