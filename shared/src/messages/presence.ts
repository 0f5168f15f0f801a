import { type Static, Type } from '@sinclair/typebox'
import { envelope } from '../envelope.js'

/** Published retained on connect (`online: true`) and registered as the MQTT last will (`online: false`). */
export const PresenceBody = Type.Object({ online: Type.Boolean() })
export type PresenceBody = Static<typeof PresenceBody>

export const PresenceMessage = envelope('presence', PresenceBody)
export type PresenceMessage = Static<typeof PresenceMessage>
