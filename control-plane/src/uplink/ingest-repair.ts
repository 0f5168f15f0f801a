import { decodeMessage, type MessageFor, PlayReportBody, TelemetryBody } from '@loa/shared'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/** One field mended so the rest of a message could be kept: its path in the body, what came, what is stored. */
export interface Repair {
  field: string
  was: unknown
  now: unknown
}

type Repairable = 'play' | 'telemetry'
const BODIES: Record<Repairable, TSchema> = { play: PlayReportBody, telemetry: TelemetryBody }
const MAX_PASSES = 8

interface ObjectSchema {
  properties: Record<string, TSchema & { type?: string; minimum?: number; maximum?: number }>
  required?: string[]
}

/**
 * A play report or a heartbeat whose only faults are fields that can be mended without inventing anything is
 * stored mended, not refused: refusing it (and receipting it) would lose the whole play or sample for one bad
 * number. Mending means: an optional part that fails (health, modem, position, clock, …) is left out; a required
 * number out of its range (a negative `uptimeS` or `durationMs` after the box's clock stepped back, a fractional
 * count) is brought into it; a required part that may be null is nulled. The changes are returned so they are recorded (`message-repaired`). Anything else —
 * a wrong type, a missing or malformed id, time or hash — is null: refused as before.
 */
export function repairMessage(
  channel: string,
  payload: Buffer,
): { message: MessageFor<Repairable>; repairs: Repair[] } | null {
  if (channel !== 'play' && channel !== 'telemetry') return null
  let data: { body?: unknown }
  try {
    data = JSON.parse(payload.toString('utf8')) as { body?: unknown }
  } catch {
    return null
  }
  const body = data?.body
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
  const schema = BODIES[channel] as unknown as ObjectSchema & TSchema
  const mended: Record<string, unknown> = { ...(body as Record<string, unknown>) }
  const repairs: Repair[] = []
  const valid = (v: unknown): boolean => Value.Check(schema, v)
  for (let pass = 0; pass < MAX_PASSES && !valid(mended); pass++) {
    const first = Value.Errors(schema, mended).First()
    const key = first?.path.split('/')[1]
    if (!key || !(key in schema.properties)) return null
    const prop = schema.properties[key] as ObjectSchema['properties'][string]
    const was = mended[key]
    if (!schema.required?.includes(key)) {
      delete mended[key]
      repairs.push({ field: key, was, now: null })
      continue
    }
    const nullable = (p: TSchema): boolean => Value.Check(p, null)
    if (was !== null && nullable(prop)) {
      // A required part that may be null (e.g. `nowPlaying`): its bad content is dropped, not guessed.
      mended[key] = null
      repairs.push({ field: key, was, now: null })
      continue
    }
    const numeric = prop.type === 'number' || prop.type === 'integer'
    if (!numeric || typeof was !== 'number' || !Number.isFinite(was)) return null
    let now = Math.min(prop.maximum ?? Number.POSITIVE_INFINITY, Math.max(prop.minimum ?? -Infinity, was))
    if (prop.type === 'integer') now = Math.round(now)
    if (now === was) return null
    mended[key] = now
    repairs.push({ field: key, was, now })
  }
  if (repairs.length === 0) return null
  try {
    return { message: decodeMessage(channel, JSON.stringify({ ...data, body: mended })), repairs }
  } catch {
    return null
  }
}
