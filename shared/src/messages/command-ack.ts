import { type Static, Type } from '@sinclair/typebox'
import { IsoUtc, MessageId } from '../common.js'
import { envelope } from '../envelope.js'

export const AckStage = Type.Union([
  Type.Literal('received'),
  Type.Literal('playing'),
  Type.Literal('done'),
  Type.Literal('failed'),
  Type.Literal('rejected'),
  Type.Literal('expired'),
  Type.Literal('cancelled'),
])
export type AckStage = Static<typeof AckStage>

export const CommandAckBody = Type.Object({
  commandId: MessageId,
  stage: AckStage,
  at: IsoUtc,
  reason: Type.Optional(Type.String({ maxLength: 1000 })),
})
export type CommandAckBody = Static<typeof CommandAckBody>

export const CommandAckMessage = envelope('command-ack', CommandAckBody)
export type CommandAckMessage = Static<typeof CommandAckMessage>
