import { type Static, Type } from '@sinclair/typebox'
import { ID_PATTERN } from './topics.js'

/** A UTC instant on the wire: ISO 8601 with `Z`, millisecond precision at most. */
export const IsoUtc = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$',
  description: 'UTC instant, ISO 8601 with Z',
})
export const Sha256Hex = Type.String({ pattern: '^[a-f0-9]{64}$', description: 'sha256, lower-case hex' })
/** Ids that may become topic levels or file names. */
export const EntityId = Type.String({ pattern: ID_PATTERN, description: 'letters, digits, _ . -; max 64' })
/** Message ids (uuid or similar). */
export const MessageId = Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' })
/** Wall-clock time of day in the province's time zone. */
export const LocalTime = Type.String({
  pattern: '^([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d)?$',
  description: 'HH:MM or HH:MM:SS, local time',
})
export const LocalDate = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'YYYY-MM-DD, local date',
})
/** ISO weekday: 1 = Monday … 7 = Sunday. */
export const DaysOfWeek = Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
  minItems: 1,
  maxItems: 7,
  uniqueItems: true,
})
export const Percent = Type.Integer({ minimum: 0, maximum: 100 })

/** Circular 39/2020 bulletin levels. */
export const BulletinLevel = Type.Union([
  Type.Literal('normal'),
  Type.Literal('priority'),
  Type.Literal('emergency'),
])
export type BulletinLevel = Static<typeof BulletinLevel>

/** Numbered priority band, 0–255 (see docs/protocol.md); higher wins. */
export const Priority = Type.Integer({ minimum: 0, maximum: 255 })
