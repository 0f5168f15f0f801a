import { type Static, Type } from '@sinclair/typebox'
import { BulletinLevel, EntityId, IsoUtc, Percent, Priority, Sha256Hex } from '../common.js'
import { envelope } from '../envelope.js'
import { DailyWindow, Recurrence } from '../recurrence.js'
import { AlertSpec } from './alert.js'
import { DESIRED_LIMITS as L } from './desired-limits.js'
import { LiveSpec, RelayEntry } from './live.js'
import { MediaRef } from './media-ref.js'

export { MediaRef } from './media-ref.js'

/** After a preemption: continue where it stopped, start the item again, or give it up (reported `interrupted`). */
export const PreemptPolicy = Type.Union([
  Type.Literal('resume'),
  Type.Literal('restart'),
  Type.Literal('drop'),
])
export type PreemptPolicy = Static<typeof PreemptPolicy>

/** One schedule the device evaluates by itself, in `timezone`, for as long as it is offline. */
export const ScheduleEntry = Type.Object({
  id: EntityId,
  title: Type.String({ maxLength: L.titleLength }),
  level: BulletinLevel,
  priority: Priority,
  /** Played in order, relay held on between them. */
  items: Type.Array(Sha256Hex, { minItems: 1, maxItems: L.itemsPerEntry }),
  recurrence: Recurrence,
  volume: Type.Optional(Percent),
  /** What happens to this entry when a higher band interrupts it (default `restart`). */
  onPreempt: Type.Optional(PreemptPolicy),
})
export type ScheduleEntry = Static<typeof ScheduleEntry>

/** Looped when nothing is scheduled, inside its daily windows. */
export const FallbackProgramme = Type.Object({
  items: Type.Array(Sha256Hex, { minItems: 1, maxItems: L.fallbackItems }),
  windows: Type.Array(DailyWindow, { maxItems: L.fallbackWindows }),
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
  units: Type.Array(EntityId, { maxItems: L.units }),
  volume: Percent,
  media: Type.Array(MediaRef, { maxItems: L.media }),
  schedule: Type.Array(ScheduleEntry, { maxItems: L.schedule }),
  fallback: Type.Union([FallbackProgramme, Type.Null()]),
  /** Alerts active for this device now, so that a device that connects late joins them. */
  alerts: Type.Optional(Type.Array(AlertSpec, { maxItems: L.alerts })),
  /** Live relays on now or starting soon, so a device that connects late joins them. */
  lives: Type.Optional(Type.Array(LiveSpec, { maxItems: L.lives })),
  /** Recurring relays of another station's programme, evaluated like schedule entries. */
  relays: Type.Optional(Type.Array(RelayEntry, { maxItems: L.relays })),
})
export type DesiredStateBody = Static<typeof DesiredStateBody>

export const DesiredStateMessage = envelope('desired-state', DesiredStateBody)
export type DesiredStateMessage = Static<typeof DesiredStateMessage>
