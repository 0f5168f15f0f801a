import { type TSchema, Type } from '@fastify/type-provider-typebox'
import { BulletinLevel, NowPlaying, PlayStatus, Recurrence } from '@loa/shared'

/**
 * Response shapes for the OpenAPI document. They allow additional properties so that a field added to a record is
 * never silently dropped by the serializer.
 */
const open = <T extends Record<string, TSchema>>(props: T) =>
  Type.Object(props, { additionalProperties: true })
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const ErrorSchema = open({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
})

export const UnitSchema = open({
  id: Type.String(),
  parentId: Nullable(Type.String()),
  name: Type.String(),
  kind: Type.String(),
  code: Nullable(Type.String()),
  createdAt: Type.String(),
})

export const ClusterSchema = open({
  id: Type.String(),
  name: Type.String(),
  unitId: Type.String(),
  stationId: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  volume: Nullable(Type.Integer()),
  online: Type.Boolean(),
  lastSeenAt: Nullable(Type.String()),
  desiredVersion: Nullable(Type.Integer()),
  appliedVersion: Nullable(Type.Integer()),
  receivedVersion: Nullable(Type.Integer()),
  nowPlaying: Nullable(NowPlaying),
  agentVersion: Nullable(Type.String()),
})

export const MediaSchema = open({
  sha256: Type.String(),
  size: Type.Integer(),
  durationMs: Type.Integer(),
  mime: Type.String(),
  codec: Type.String(),
  bitrateKbps: Type.Integer(),
  loudness: open({
    inputI: Type.Number(),
    inputTp: Type.Number(),
    inputLra: Type.Number(),
    targetI: Type.Number(),
  }),
  originalName: Type.String(),
})

export const ScheduleSchema = open({
  id: Type.String(),
  title: Type.String(),
  bulletinId: Nullable(Type.String()),
  playlistId: Nullable(Type.String()),
  recurrence: Recurrence,
  targets: open({
    units: Type.Array(Type.String()),
    clusters: Type.Array(Type.String()),
    tags: Type.Array(Type.String()),
  }),
  priority: Type.Integer(),
  volume: Nullable(Type.Integer()),
  enabled: Type.Boolean(),
  /** On creation: the level the default priority was derived from. */
  level: Type.Optional(BulletinLevel),
})

export const PlaySchema = open({
  id: Type.String(),
  clusterId: Type.String(),
  scheduleId: Nullable(Type.String()),
  title: Type.String(),
  sha256: Type.String(),
  level: BulletinLevel,
  priority: Type.Integer(),
  fallback: Type.Boolean(),
  occurrence: Nullable(Type.String()),
  status: PlayStatus,
  reason: Nullable(Type.String()),
  relayOnAt: Nullable(Type.String()),
  startedAt: Nullable(Type.String()),
  endedAt: Nullable(Type.String()),
  relayOffAt: Nullable(Type.String()),
  durationMs: Type.Integer(),
  /** With clusterId, scheduleId, occurrence and sha256: the play's name (absent for fallback fill). */
  attempt: Type.Optional(Type.Integer()),
  receivedAt: Type.String(),
})

export const EventSchema = open({
  id: Type.String(),
  clusterId: Nullable(Type.String()),
  at: Type.String(),
  kind: Type.String(),
  severity: Type.String(),
  message: Type.String(),
  source: Type.String(),
  receivedAt: Type.String(),
})
