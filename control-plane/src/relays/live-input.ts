import { Type } from '@fastify/type-provider-typebox'
import { Bands, DESIRED_LIMITS, isEmergencyBand, LiveSourceUrl, Percent, Priority } from '@loa/shared'
import type { Targets } from '../org/model.js'
import { checkTargetsExist, plainTargets, TargetsBody } from '../org/targets-input.js'
import type { Repositories } from '../repositories.js'
import { LoaError, validationMessage } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import type { Live } from './model.js'

/** A live relay may be announced at most this far ahead, and last at most this long. */
const MAX_AHEAD_S = 7 * 24 * 3600
const MAX_DURATION_S = 7 * 24 * 3600

export const LiveBody = Type.Object(
  {
    title: PlainText({ minLength: 1, maxLength: DESIRED_LIMITS.titleLength }),
    sourceUrl: LiveSourceUrl,
    targets: TargetsBody,
    startsAt: Type.Optional(Type.String({ format: 'date-time' })),
    endsAt: Type.Optional(Type.String({ format: 'date-time' })),
    durationS: Type.Optional(Type.Integer({ minimum: 10, maximum: MAX_DURATION_S })),
    priority: Type.Optional(Priority),
    volume: Type.Optional(Percent),
  },
  { additionalProperties: false },
)

export type LiveInput = Omit<Live, 'id' | 'revision' | 'ackId' | 'state' | 'createdAt' | 'updatedAt'>

const bad = (message: string) => new LoaError('LOA_LIVE_INVALID', message)

export const SOURCE_PROBLEM =
  'only network streams are allowed (http, https, rtsp, rtsps, srt, rtp, udp, rtmp, rtmps), with a host'

/**
 * The shared pattern already refuses `file:`, `concat:`, `subfile:` and other ffmpeg pseudo-protocols; on top of
 * it a source must parse as a URL with a host and carry no control characters.
 */
export function sourceUrlProblem(url: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(url)) return SOURCE_PROBLEM
  if (!new RegExp(LiveSourceUrl.pattern as string).test(url)) return SOURCE_PROBLEM
  if (/^[a-z]+:\/\/\//.test(url)) return SOURCE_PROBLEM
  try {
    if (new URL(url).hostname === '') return SOURCE_PROBLEM
  } catch {
    return SOURCE_PROBLEM
  }
  return null
}

/** Schema failures name the field; a bad source gets a message that says what is allowed. */
export function sourceAwareMessage(
  err: { validation?: { instancePath: string }[]; message: string },
  otherwise: (err: { validation?: { instancePath: string }[]; message: string }) => string = (e) =>
    validationMessage(e.validation, e.message),
): string {
  if ((err.validation ?? []).some((v) => v.instancePath === '/sourceUrl'))
    return `sourceUrl: ${SOURCE_PROBLEM}`
  return otherwise(err)
}

/** Relays are not emergencies: 0–199 (default `Bands.relay`). */
export function relayBand(priority: number | undefined, fail: (m: string) => LoaError): number {
  const p = priority ?? Bands.relay
  if (isEmergencyBand(p)) {
    throw fail(
      `priority: a relay is below the emergency band (0–${Bands.emergency - 1}); emergencies are alerts`,
    )
  }
  return p
}

function instant(field: string, value: string): number {
  const t = Date.parse(value)
  if (!Number.isFinite(t)) throw bad(`${field}: not a date-time`)
  return t
}

/** Validates a POST /api/lives body against the database and the clock. */
export async function liveInputFromBody(
  repos: Repositories,
  b: {
    title: string
    sourceUrl: string
    targets: { units?: string[]; clusters?: string[]; tags?: string[] }
    startsAt?: string
    endsAt?: string
    durationS?: number
    priority?: number
    volume?: number
  },
  now = Date.now(),
): Promise<LiveInput> {
  if (!b.title.trim()) throw bad('title: must not be blank')
  if (sourceUrlProblem(b.sourceUrl)) throw bad(`sourceUrl: ${SOURCE_PROBLEM}`)
  const targets: Targets = plainTargets(b.targets, bad)
  await checkTargetsExist(repos, targets, bad)
  const startsAt = b.startsAt === undefined ? now : instant('startsAt', b.startsAt)
  if (startsAt > now + MAX_AHEAD_S * 1000) throw bad('startsAt: more than 7 days ahead')
  if (b.endsAt !== undefined && b.durationS !== undefined) {
    throw bad('endsAt: give either endsAt or durationS, not both')
  }
  let endsAt: number | null = null
  if (b.endsAt !== undefined) {
    endsAt = instant('endsAt', b.endsAt)
    if (endsAt <= startsAt) throw bad('endsAt: must be after startsAt')
    if (endsAt - startsAt > MAX_DURATION_S * 1000) throw bad('endsAt: a relay lasts at most 7 days')
  } else if (b.durationS !== undefined) {
    endsAt = startsAt + b.durationS * 1000
  }
  if (endsAt !== null && endsAt <= now) throw bad('endsAt: already past')
  return {
    title: b.title,
    sourceUrl: b.sourceUrl,
    priority: relayBand(b.priority, bad),
    startsAt: new Date(startsAt).toISOString(),
    endsAt: endsAt === null ? null : new Date(endsAt).toISOString(),
    volume: b.volume ?? null,
    targets,
  }
}
