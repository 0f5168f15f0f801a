import { type Static, Type } from '@sinclair/typebox'
import { IsoUtc } from '../common.js'
import { envelope } from '../envelope.js'

export const EventSeverity = Type.Union([
  Type.Literal('info'),
  Type.Literal('warning'),
  Type.Literal('error'),
])
export type EventSeverity = Static<typeof EventSeverity>

/** Something the device did or saw. Kinds are listed in docs/protocol.md. */
export const DeviceEventBody = Type.Object({
  at: IsoUtc,
  kind: Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$' }),
  severity: EventSeverity,
  message: Type.String({ maxLength: 2000 }),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
})
export type DeviceEventBody = Static<typeof DeviceEventBody>

export const DeviceEventMessage = envelope('event', DeviceEventBody)
export type DeviceEventMessage = Static<typeof DeviceEventMessage>
