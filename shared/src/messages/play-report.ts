import { type Static, Type } from '@sinclair/typebox'
import { BulletinLevel, EntityId, IsoUtc, Priority, Sha256Hex } from '../common.js'
import { envelope } from '../envelope.js'

export const PlayStatus = Type.Union([
  Type.Literal('played'),
  Type.Literal('failed'),
  Type.Literal('skipped'),
  Type.Literal('interrupted'),
])
export type PlayStatus = Static<typeof PlayStatus>

/** Proof of play: one item of one occurrence, sent once the relay is off again. */
export const PlayReportBody = Type.Object({
  scheduleId: Type.Union([EntityId, Type.Null()]),
  title: Type.String({ maxLength: 200 }),
  sha256: Sha256Hex,
  level: BulletinLevel,
  priority: Priority,
  fallback: Type.Boolean(),
  /** The scheduled instant of the occurrence (null for fallback fill). */
  occurrence: Type.Union([IsoUtc, Type.Null()]),
  status: PlayStatus,
  reason: Type.Optional(Type.String({ maxLength: 1000 })),
  relayOnAt: Type.Union([IsoUtc, Type.Null()]),
  startedAt: Type.Union([IsoUtc, Type.Null()]),
  endedAt: Type.Union([IsoUtc, Type.Null()]),
  relayOffAt: Type.Union([IsoUtc, Type.Null()]),
  durationMs: Type.Integer({ minimum: 0 }),
  /**
   * With scheduleId, occurrence and sha256, names the play: how many earlier reports of the same item of the same
   * occurrence the box holds (0 first; more after a preemption, or an item repeated). A play reported again under
   * a new envelope id (a box that lost its WAL or its database) carries the same name and is counted once. Absent
   * from fallback fill and from agents before this field.
   */
  attempt: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
})
export type PlayReportBody = Static<typeof PlayReportBody>

export const PlayReportMessage = envelope('play', PlayReportBody)
export type PlayReportMessage = Static<typeof PlayReportMessage>
