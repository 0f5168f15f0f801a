import { Type } from '@fastify/type-provider-typebox'
import {
  Bands,
  type BulletinLevel,
  DESIRED_LIMITS,
  EntityId,
  isEmergencyBand,
  type MediaRef,
  Percent,
  Priority,
  Sha256Hex,
} from '@loa/shared'
import type { ContentLookup } from '../access/scope-refs.js'
import { assertApproved } from '../bulletins/workflow.js'
import type { Media } from '../media/model.js'
import { ringProblem } from '../org/geo.js'
import type { LatLon } from '../org/model.js'
import { checkTargetsExist } from '../org/targets-input.js'
import type { Repositories } from '../repositories.js'
import { LoaError } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import type { AlertTargets } from './model.js'
import type { AlertInput } from './service.js'

/** Alerts are for now: at most a week ahead. */
const MAX_EXPIRY_S = 7 * 24 * 3600
const Lat = Type.Number({ minimum: -90, maximum: 90 })
const Lon = Type.Number({ minimum: -180, maximum: 180 })

export const AlertTargetsBody = Type.Object(
  {
    units: Type.Optional(Type.Array(EntityId, { maxItems: 1000 })),
    clusters: Type.Optional(Type.Array(EntityId, { maxItems: 10_000 })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 })),
    area: Type.Optional(
      Type.Object(
        {
          polygon: Type.Optional(Type.Array(Type.Tuple([Lat, Lon]), { minItems: 3, maxItems: 1000 })),
          circle: Type.Optional(
            Type.Object(
              { lat: Lat, lon: Lon, radiusKm: Type.Number({ exclusiveMinimum: 0, maximum: 2000 }) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)

const content = {
  title: PlainText({ minLength: 1, maxLength: DESIRED_LIMITS.titleLength }),
  bulletinId: Type.Optional(EntityId),
  mediaSha256s: Type.Optional(Type.Array(Sha256Hex, { minItems: 1, maxItems: DESIRED_LIMITS.alertItems })),
  /** Spoken in the alert media lane instead of a bulletin or media (alerts/speech.ts). */
  text: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
  voice: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  level: Type.Optional(Type.Union([Type.Literal('emergency'), Type.Literal('priority')])),
  priority: Type.Optional(Priority),
  repeat: Type.Optional(Type.Integer({ minimum: 1, maximum: DESIRED_LIMITS.alertRepeat })),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  expiresInS: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EXPIRY_S })),
  audible: Type.Optional(Type.Boolean()),
  volume: Type.Optional(Percent),
}

export const AlertBody = Type.Object(
  { ...content, targets: AlertTargetsBody },
  { additionalProperties: false },
)
export const AlertPatchBody = Type.Object(
  { ...content, title: Type.Optional(content.title) },
  { additionalProperties: false },
)

type AlertBodyT = {
  title?: string
  bulletinId?: string
  mediaSha256s?: string[]
  level?: 'emergency' | 'priority'
  priority?: number
  repeat?: number
  expiresAt?: string
  expiresInS?: number
  audible?: boolean
  volume?: number
}

const bad = (message: string) => new LoaError('LOA_ALERT_INVALID', message)

export function mediaRef(m: Media): MediaRef {
  return { sha256: m.sha256, size: m.size, url: `/media/${m.sha256}`, mime: m.mime, durationMs: m.durationMs }
}

/** Items from a bulletin or from media hashes; exactly one of the two. */
export async function resolveItems(
  visible: ContentLookup,
  b: AlertBodyT,
  required: boolean,
): Promise<MediaRef[] | null> {
  if (b.bulletinId !== undefined && b.mediaSha256s !== undefined) {
    throw bad('bulletinId: give either bulletinId or mediaSha256s, not both')
  }
  if (b.bulletinId !== undefined) {
    // Looked up as the caller sees them: another commune's bulletin or media is "not found".
    const bulletin = await visible.bulletin(b.bulletinId)
    if (!bulletin) throw bad(`bulletinId: bulletin "${b.bulletinId}" not found`)
    assertApproved(bulletin)
    const m = await visible.media(bulletin.mediaSha256)
    if (!m) throw bad(`bulletinId: the media of bulletin "${b.bulletinId}" is gone`)
    return [mediaRef(m)]
  }
  if (b.mediaSha256s !== undefined) {
    const refs: MediaRef[] = []
    for (const [i, sha] of b.mediaSha256s.entries()) {
      const m = await visible.media(sha)
      if (!m) throw bad(`mediaSha256s[${i}]: media "${sha}" not found`)
      refs.push(mediaRef(m))
    }
    return refs
  }
  if (required) throw bad('bulletinId: give bulletinId or mediaSha256s')
  return null
}

/** Level and band: an emergency lives in 200–255, a priority alert below it. */
export function resolveBand(b: AlertBodyT, fallback?: { level: BulletinLevel; priority: number }) {
  const level = b.level ?? (fallback?.level as 'emergency' | 'priority' | undefined) ?? 'emergency'
  const priority = b.priority ?? (b.level === undefined && fallback ? fallback.priority : Bands[level])
  if (level === 'emergency' && !isEmergencyBand(priority)) {
    throw bad(`priority: an emergency alert is in the emergency band ${Bands.emergency}–${Bands.max}`)
  }
  if (level === 'priority' && isEmergencyBand(priority)) {
    throw bad(`priority: a priority alert is below the emergency band (< ${Bands.emergency})`)
  }
  return { level, priority }
}

export function resolveExpiry(b: AlertBodyT, now = Date.now()): string | null {
  if (b.expiresAt !== undefined && b.expiresInS !== undefined) {
    throw bad('expiresAt: give either expiresAt or expiresInS, not both')
  }
  if (b.expiresAt !== undefined) {
    const t = Date.parse(b.expiresAt)
    if (!Number.isFinite(t)) throw bad('expiresAt: not a date-time')
    if (t <= now) throw bad('expiresAt: already past')
    if (t > now + MAX_EXPIRY_S * 1000) throw bad('expiresAt: more than 7 days ahead')
    return new Date(t).toISOString()
  }
  if (b.expiresInS !== undefined) return new Date(now + b.expiresInS * 1000).toISOString()
  return null
}

export function resolveTargetsBody(t: {
  units?: string[]
  clusters?: string[]
  tags?: string[]
  area?: { polygon?: [number, number][]; circle?: { lat: number; lon: number; radiusKm: number } }
}): AlertTargets {
  const polygons: LatLon[][] = []
  if (t.area?.polygon) {
    const ring = t.area.polygon.map(([lat, lon]): LatLon => [lat, lon])
    const first = ring[0] as LatLon
    const last = ring[ring.length - 1] as LatLon
    // Accept an open ring from the API and close it.
    if (first[0] !== last[0] || first[1] !== last[1]) ring.push([first[0], first[1]])
    const problem = ringProblem(ring)
    if (problem) throw bad(`targets.area.polygon: ${problem}`)
    polygons.push(ring)
  }
  const targets: AlertTargets = {
    units: [...new Set(t.units ?? [])],
    clusters: [...new Set(t.clusters ?? [])],
    tags: [...new Set(t.tags ?? [])],
    polygons,
    circles: t.area?.circle ? [t.area.circle] : [],
  }
  if (
    targets.units.length +
      targets.clusters.length +
      targets.tags.length +
      polygons.length +
      targets.circles.length ===
    0
  ) {
    throw bad('targets: give units, clusters, tags or an area')
  }
  return targets
}

/** Validates a POST /api/alerts body against the database and turns it into an alert to raise. */
export async function alertInputFromBody(
  repos: Repositories,
  visible: ContentLookup,
  b: AlertBodyT & { title: string; targets: Parameters<typeof resolveTargetsBody>[0] },
): Promise<AlertInput> {
  const targets = resolveTargetsBody(b.targets)
  await checkTargetsExist(repos, targets, bad)
  const items = (await resolveItems(visible, b, true)) as MediaRef[]
  const { level, priority } = resolveBand(b)
  const expiresAt = resolveExpiry(b) ?? new Date(Date.now() + 3600_000).toISOString()
  return {
    title: b.title,
    items,
    level,
    priority,
    targets,
    repeat: b.repeat ?? 1,
    startsAt: new Date().toISOString(),
    expiresAt,
    audible: b.audible ?? true,
    volume: b.volume ?? null,
    source: 'api',
  }
}
