import { type Static, Type } from '@sinclair/typebox'
import { IsoUtc, MessageId } from '../common.js'
import { envelope } from '../envelope.js'

/**
 * Kinds of command. `ping` answers `done`; `resync` makes the agent report its state again and re-check its cache.
 * Live, emergency and test actions join this list in later issues.
 */
export const CommandKind = Type.Union([Type.Literal('ping'), Type.Literal('resync')])
export type CommandKind = Static<typeof CommandKind>

export const CommandBody = Type.Object({
  commandId: MessageId,
  kind: CommandKind,
  /** After this instant the command must not be carried out; the agent acknowledges `expired`. */
  deadline: IsoUtc,
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
})
export type CommandBody = Static<typeof CommandBody>

export const CommandMessage = envelope('command', CommandBody)
export type CommandMessage = Static<typeof CommandMessage>
