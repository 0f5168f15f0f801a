import { type Static, Type } from '@sinclair/typebox'
import { EntityId, IsoUtc, MessageId } from '../common.js'
import { envelope } from '../envelope.js'
import { AlertSpec } from './alert.js'
import { LiveSpec } from './live.js'
import { Recipients } from './recipients.js'

/**
 * Kinds of command. `ping` answers `done`; `resync` makes the agent report its state again and re-check its cache.
 * Live, emergency and test actions join this list in later issues.
 */
export const CommandKind = Type.Union([Type.Literal('ping'), Type.Literal('resync')])
export type CommandKind = Static<typeof CommandKind>

/** After this instant a command must not be carried out; the agent acknowledges `expired`. */
const Deadline = IsoUtc

/** Every command names whom it is for (required: a command without recipients is refused, see edge-agent/src/link/recipients.ts). */
const To = { recipients: Recipients }

export const SimpleCommandBody = Type.Object({
  commandId: MessageId,
  kind: CommandKind,
  deadline: Deadline,
  ...To,
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
})

/** Raise (or update, by a newer revision) an alert on every device that receives it. */
export const AlertCommandBody = Type.Object({
  commandId: MessageId,
  kind: Type.Literal('alert'),
  deadline: Deadline,
  ...To,
  alert: AlertSpec,
})

/** Withdraw an alert: stop it if playing, never start it. */
export const AlertCancelCommandBody = Type.Object({
  commandId: MessageId,
  kind: Type.Literal('alert-cancel'),
  deadline: Deadline,
  ...To,
  alertId: EntityId,
})

/** Start (or update, by a newer revision) a live relay. */
export const LiveStartCommandBody = Type.Object({
  commandId: MessageId,
  kind: Type.Literal('live-start'),
  deadline: Deadline,
  ...To,
  live: LiveSpec,
})

/**
 * Sound a test tone on one zone (or all zones) of a cluster, through the same arbitration as everything else,
 * at the `test` band. Acknowledged received → started → done (or failed/preempted).
 */
export const TestSpec = Type.Object({
  /** Zone to test; absent means every zone in turn. */
  zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  seconds: Type.Integer({ minimum: 1, maximum: 30 }),
  frequencyHz: Type.Optional(Type.Integer({ minimum: 100, maximum: 4000 })),
})
export type TestSpec = Static<typeof TestSpec>

export const TestCommandBody = Type.Object({
  commandId: MessageId,
  kind: Type.Literal('test'),
  deadline: Deadline,
  ...To,
  test: TestSpec,
})

/** Stop a live relay. */
export const LiveStopCommandBody = Type.Object({
  commandId: MessageId,
  kind: Type.Literal('live-stop'),
  deadline: Deadline,
  ...To,
  liveId: EntityId,
})

export const CommandBody = Type.Union([
  SimpleCommandBody,
  AlertCommandBody,
  AlertCancelCommandBody,
  LiveStartCommandBody,
  LiveStopCommandBody,
  TestCommandBody,
])
export type CommandBody = Static<typeof CommandBody>

/** A command body before the control plane addresses it (control-plane/src/commands/message.ts adds `recipients`). */
export type UnaddressedCommandBody = Unaddressed<CommandBody>
type Unaddressed<B> = B extends unknown ? Omit<B, 'recipients'> : never

export const CommandMessage = envelope('command', CommandBody)
export type CommandMessage = Static<typeof CommandMessage>
