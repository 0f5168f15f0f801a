import { type Static, Type } from '@sinclair/typebox'
import { IsoUtc, Sha256Hex } from '../common.js'
import { envelope } from '../envelope.js'

export const CachedMediaState = Type.Union([
  Type.Literal('ready'),
  Type.Literal('downloading'),
  Type.Literal('missing'),
  Type.Literal('failed'),
])

export const CachedMedia = Type.Object({
  sha256: Sha256Hex,
  size: Type.Integer({ minimum: 0 }),
  state: CachedMediaState,
  error: Type.Optional(Type.String({ maxLength: 500 })),
})
export type CachedMedia = Static<typeof CachedMedia>

export const ReportedStateBody = Type.Object({
  /** The desired-state version the agent has fully applied (all media ready), or null before the first. */
  desiredVersion: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  /** The newest version received, applied or not. */
  receivedVersion: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  appliedAt: Type.Union([IsoUtc, Type.Null()]),
  agentVersion: Type.String({ maxLength: 64 }),
  media: Type.Array(CachedMedia, { maxItems: 10000 }),
  cacheBytes: Type.Integer({ minimum: 0 }),
  cacheBudgetBytes: Type.Integer({ minimum: 0 }),
  diskFreeBytes: Type.Integer({ minimum: 0 }),
})
export type ReportedStateBody = Static<typeof ReportedStateBody>

export const ReportedStateMessage = envelope('reported-state', ReportedStateBody)
export type ReportedStateMessage = Static<typeof ReportedStateMessage>
