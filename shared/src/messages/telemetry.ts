import { type Static, Type } from '@sinclair/typebox'
import { EntityId, IsoUtc, Sha256Hex } from '../common.js'
import { envelope } from '../envelope.js'

export const NowPlaying = Type.Object({
  scheduleId: Type.Union([EntityId, Type.Null()]),
  title: Type.String({ maxLength: 200 }),
  sha256: Sha256Hex,
  startedAt: IsoUtc,
  fallback: Type.Boolean(),
})
export type NowPlaying = Static<typeof NowPlaying>

/** Heartbeat, every `telemetryIntervalS`; also what the control plane's heartbeat timeout watches. */
export const TelemetryBody = Type.Object({
  at: IsoUtc,
  uptimeS: Type.Number({ minimum: 0 }),
  agentVersion: Type.String({ maxLength: 64 }),
  cpuLoad1: Type.Number({ minimum: 0 }),
  cpuCount: Type.Integer({ minimum: 1 }),
  memTotalBytes: Type.Integer({ minimum: 0 }),
  memFreeBytes: Type.Integer({ minimum: 0 }),
  diskTotalBytes: Type.Integer({ minimum: 0 }),
  diskFreeBytes: Type.Integer({ minimum: 0 }),
  relayOn: Type.Boolean(),
  nowPlaying: Type.Union([NowPlaying, Type.Null()]),
  outboxPending: Type.Integer({ minimum: 0 }),
})
export type TelemetryBody = Static<typeof TelemetryBody>

export const TelemetryMessage = envelope('telemetry', TelemetryBody)
export type TelemetryMessage = Static<typeof TelemetryMessage>
