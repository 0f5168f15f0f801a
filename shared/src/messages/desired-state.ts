import { type Static, Type } from '@sinclair/typebox'
import { BulletinLevel, EntityId, IsoUtc, Percent, Priority, Sha256Hex } from '../common.js'
import { envelope } from '../envelope.js'
import { DailyWindow, Recurrence } from '../recurrence.js'

/** One audio file the device must hold. `url` is absolute, or relative to the agent's control-plane URL. */
export const MediaRef = Type.Object({
  sha256: Sha256Hex,
  size: Type.Integer({ minimum: 1, maximum: 2 ** 40 }),
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  mime: Type.String({ maxLength: 64 }),
  durationMs: Type.Integer({ minimum: 0 }),
})
export type MediaRef = Static<typeof MediaRef>

/** One schedule the device evaluates by itself, in `timezone`, for as long as it is offline. */
export const ScheduleEntry = Type.Object({
  id: EntityId,
  title: Type.String({ maxLength: 200 }),
  level: BulletinLevel,
  priority: Priority,
  /** Played in order, relay held on between them. */
  items: Type.Array(Sha256Hex, { minItems: 1, maxItems: 200 }),
  recurrence: Recurrence,
  volume: Type.Optional(Percent),
})
export type ScheduleEntry = Static<typeof ScheduleEntry>

/** Looped when nothing is scheduled, inside its daily windows. */
export const FallbackProgramme = Type.Object({
  items: Type.Array(Sha256Hex, { minItems: 1, maxItems: 200 }),
  windows: Type.Array(DailyWindow, { maxItems: 48 }),
  volume: Type.Optional(Percent),
})
export type FallbackProgramme = Static<typeof FallbackProgramme>

export const DesiredStateBody = Type.Object({
  deviceId: EntityId,
  /** Increases whenever the content changes; the agent reports the version it has applied. */
  version: Type.Integer({ minimum: 1 }),
  generatedAt: IsoUtc,
  timezone: Type.String({ minLength: 1, maxLength: 64 }),
  /** Unit ids from the root of the tree down to the device's unit: the agent subscribes to their command topics. */
  units: Type.Array(EntityId, { maxItems: 32 }),
  volume: Percent,
  media: Type.Array(MediaRef, { maxItems: 5000 }),
  schedule: Type.Array(ScheduleEntry, { maxItems: 2000 }),
  fallback: Type.Union([FallbackProgramme, Type.Null()]),
})
export type DesiredStateBody = Static<typeof DesiredStateBody>

export const DesiredStateMessage = envelope('desired-state', DesiredStateBody)
export type DesiredStateMessage = Static<typeof DesiredStateMessage>
