import { type Static, Type } from '@sinclair/typebox'
import { BulletinLevel, EntityId, IsoUtc, MessageId, Percent, Priority } from '../common.js'
import { DESIRED_LIMITS as L } from './desired-limits.js'
import { MediaRef } from './media-ref.js'

/**
 * An emergency (or priority) alert as a device receives it: by a command on a unit or device topic for speed, and
 * in the desired state while it is active so a device that connects late joins it. Devices de-duplicate by
 * `alertId`; an update re-uses the id with a newer `revision`.
 */
export const AlertSpec = Type.Object({
  alertId: EntityId,
  revision: Type.Integer({ minimum: 1 }),
  /**
   * The `commandId` every acknowledgement of this alert carries (received, playing, done, failed, cancelled,
   * expired), whether the device got it by command or from its desired state.
   */
  ackId: MessageId,
  title: Type.String({ maxLength: L.titleLength }),
  level: BulletinLevel,
  priority: Priority,
  /** Played in order, `repeat` times; media is listed in full so a device can fetch what it lacks at once. */
  items: Type.Array(MediaRef, { minItems: 1, maxItems: L.alertItems }),
  repeat: Type.Integer({ minimum: 1, maximum: L.alertRepeat }),
  /** Not before (usually now). */
  startsAt: IsoUtc,
  /** An alert past this instant never starts, and stops if it is playing. */
  expiresAt: IsoUtc,
  /** False for CAP Test and Exercise: delivered and acknowledged, never sounded. */
  audible: Type.Boolean(),
  volume: Type.Optional(Percent),
})
export type AlertSpec = Static<typeof AlertSpec>
