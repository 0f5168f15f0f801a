import { type Static, Type } from '@sinclair/typebox'
import { MessageId } from '../common.js'
import { envelope } from '../envelope.js'

/**
 * The control plane has durably stored these upward messages (by envelope id): the agent may drop them from its
 * outbox. Until then the agent re-sends them, and the control plane de-duplicates by id.
 */
export const ReceiptBody = Type.Object({ ids: Type.Array(MessageId, { minItems: 1, maxItems: 1000 }) })
export type ReceiptBody = Static<typeof ReceiptBody>

export const ReceiptMessage = envelope('receipt', ReceiptBody)
export type ReceiptMessage = Static<typeof ReceiptMessage>
