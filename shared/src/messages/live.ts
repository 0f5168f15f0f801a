import { type Static, Type } from '@sinclair/typebox'
import { EntityId, IsoUtc, MessageId, Percent, Priority } from '../common.js'
import { Recurrence } from '../recurrence.js'
import { DESIRED_LIMITS as L } from './desired-limits.js'

/**
 * Where a live relay may come from. Only network protocols ffmpeg reads as streams: never `file:`, `concat:`,
 * `subfile:` or other ffmpeg pseudo-protocols, which would let a forged relay read the box's own files.
 */
export const LIVE_SOURCE_PATTERN = '^(https?|rtsps?|srt|rtp|udp|rtmps?)://[^\\s]{1,2000}$'
export const LiveSourceUrl = Type.String({ pattern: LIVE_SOURCE_PATTERN, maxLength: 2048 })

/**
 * A live relay (tiếp sóng) as a device receives it: by a `live-start` command for speed, and in the desired state
 * while it is on so a device that connects late (or comes back from a dropped link) joins it.
 */
export const LiveSpec = Type.Object({
  liveId: EntityId,
  revision: Type.Integer({ minimum: 1 }),
  /** The `commandId` its acknowledgements carry (received, playing, done, failed, cancelled, expired). */
  ackId: MessageId,
  title: Type.String({ maxLength: L.titleLength }),
  sourceUrl: LiveSourceUrl,
  priority: Priority,
  startsAt: IsoUtc,
  /** Null: until stopped. */
  endsAt: Type.Union([IsoUtc, Type.Null()]),
  volume: Type.Optional(Percent),
})
export type LiveSpec = Static<typeof LiveSpec>

/** A recurring relay in the schedule, e.g. the national news every day at 06:00 for 30 minutes. */
export const RelayEntry = Type.Object({
  id: EntityId,
  title: Type.String({ maxLength: L.titleLength }),
  sourceUrl: LiveSourceUrl,
  priority: Priority,
  recurrence: Recurrence,
  durationS: Type.Integer({ minimum: 10, maximum: 24 * 3600 }),
  volume: Type.Optional(Percent),
})
export type RelayEntry = Static<typeof RelayEntry>
