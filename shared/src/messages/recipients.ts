import { type Static, Type } from '@sinclair/typebox'
import { EntityId } from '../common.js'

/**
 * Whom a command is for, inside its signed body: device ids and unit ids. A device carries out a command only if
 * its own id is in `devices` or one of the units on its path from the root (its desired state's `units`) is in
 * `units`, whatever topic the command came on, so a signed command captured on one topic and published again on
 * another (another commune's unit topic, another device's `cmd` topic) is refused there (docs/security.md).
 */
export const Recipients = Type.Object(
  {
    devices: Type.Array(EntityId, { maxItems: 1000 }),
    units: Type.Array(EntityId, { maxItems: 1000 }),
  },
  { additionalProperties: false },
)
export type Recipients = Static<typeof Recipients>

/**
 * The most recipients the control plane names in one command message: a command for more devices goes out as
 * several messages (same `commandId`, one envelope each), each published only on its own recipients' topics, so
 * a box never downloads a list of thousands of ids.
 */
export const MAX_RECIPIENTS_PER_MESSAGE = 100

/** Whether a command addressed to `to` is for the device `deviceId` whose unit path is `units`. */
export function isAddressedTo(to: Recipients, deviceId: string, units: readonly string[]): boolean {
  return to.devices.includes(deviceId) || to.units.some((u) => units.includes(u))
}
