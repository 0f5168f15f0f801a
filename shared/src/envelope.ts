import { type TSchema, Type } from '@sinclair/typebox'
import { IsoUtc, MessageId } from './common.js'
import { PROTOCOL_VERSION } from './version.js'

/**
 * Room for the control plane's Ed25519 signature over the canonical envelope (issue: device security).
 * Receivers ignore it until signing is switched on; then unsigned messages are refused.
 */
export const Signature = Type.Object(
  {
    alg: Type.Literal('ed25519'),
    keyId: Type.String({ minLength: 1, maxLength: 64 }),
    value: Type.String({ minLength: 1, maxLength: 256, description: 'base64' }),
  },
  { additionalProperties: false },
)

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
