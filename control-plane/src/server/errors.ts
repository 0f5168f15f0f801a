import { PLAIN_TEXT_PATTERN, PLAIN_TEXT_PROBLEM } from './plain-text.js'

/**
 * Every HTTP error has a stable code (as Fastify's own errors do) so clients and tests match on the code, and a
 * message that names the offending field.
 */
export const LoaErrorCodes = {
  LOA_NOT_FOUND: 404,
  LOA_CONFLICT: 409,
  LOA_VALIDATION: 400,
  LOA_SCHEDULE_INVALID: 400,
  LOA_UNIT_INVALID: 400,
  LOA_UNIT_IMPORT_INVALID: 400,
  LOA_ALERT_INVALID: 400,
  LOA_LIVE_INVALID: 400,
  LOA_RELAY_INVALID: 400,
  LOA_CAP_INVALID: 400,
  LOA_CAP_UNSUPPORTED: 422,
  LOA_CAP_STALE: 422,
  LOA_CAP_CONFLICT: 409,
  LOA_UNSUPPORTED_MEDIA_TYPE: 415,
  LOA_MEDIA_NOT_AUDIO: 422,
  LOA_MEDIA_TOO_LARGE: 413,
  LOA_MEDIA_MISSING_FILE: 400,
  LOA_MEDIA_TRANSCODE_FAILED: 500,
  LOA_MEDIA_TOO_LONG: 413,
  LOA_MEDIA_UNSUPPORTED: 422,
  LOA_MEDIA_TOO_COSTLY: 422,
  LOA_MEDIA_BUSY: 429,
  LOA_RANGE_NOT_SATISFIABLE: 416,
  LOA_UNAVAILABLE: 503,
  LOA_INTERNAL: 500,
  LOA_BODY_TOO_LARGE: 413,
  LOA_UNAUTHENTICATED: 401,
  LOA_LOGIN_FAILED: 401,
  LOA_FORBIDDEN: 403,
  LOA_CROSS_SITE: 403,
  LOA_ACCOUNT_LOCKED: 423,
  LOA_RATE_LIMITED: 429,
  LOA_LAST_ADMIN: 409,
  LOA_TTS_INVALID: 400,
  LOA_TTS_FAILED: 502,
  LOA_WORKFLOW_INVALID: 400,
  LOA_BULLETIN_NOT_APPROVED: 409,
  LOA_INBOX_STATE: 409,
  LOA_CALENDAR_INVALID: 400,
  LOA_CALENDAR_CONFLICT: 409,
  LOA_REPORT_INVALID: 400,
  LOA_SELF_APPROVAL: 403,
  LOA_MIC_INVALID: 400,
  LOA_MIC_NOT_AUDIO: 422,
  LOA_MIC_LIMIT: 429,
  LOA_MIC_IDLE: 408,
  LOA_REQUEST_TIMEOUT: 408,
  LOA_TOO_MANY_UPLOADS: 429,
  /** The change would build a desired state its agents refuse (shared/src/messages/desired-limits.ts). */
  LOA_DESIRED_LIMIT: 422,
} as const
export type LoaErrorCode = keyof typeof LoaErrorCodes

export class LoaError extends Error {
  readonly code: LoaErrorCode
  readonly statusCode: number
  constructor(code: LoaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LoaError'
    this.code = code
    this.statusCode = LoaErrorCodes[code]
  }
}

export const notFound = (what: string, id: string): LoaError =>
  new LoaError('LOA_NOT_FOUND', `${what} "${id}" not found`)

export const unauthenticated = (message = 'authentication required'): LoaError =>
  new LoaError('LOA_UNAUTHENTICATED', message)

export const forbidden = (message: string): LoaError => new LoaError('LOA_FORBIDDEN', message)

export const invalid = (field: string, problem: string, code: LoaErrorCode = 'LOA_VALIDATION'): LoaError =>
  new LoaError(code, `${field}: ${problem}`)

/** The JSON shape of every error response. */
export interface ErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Entity',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  502: 'Bad Gateway',
}

export function errorBody(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: STATUS_TEXT[statusCode] ?? 'Error', message }
}

interface AjvLikeError {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
}

/** `/targets/units/0` → `targets.units[0]`. */
export function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('')
}

/** Turns a schema validation failure into `field: problem`, naming the field even for missing or extra ones. */
export function validationMessage(
  errors: AjvLikeError[] | undefined,
  fallback: string,
  context = '',
): string {
  const e = errors?.find((x) => x.keyword !== 'anyOf' && x.keyword !== 'oneOf') ?? errors?.[0]
  if (!e) return fallback
  let field = fieldName(e.instancePath ?? '')
  const extra = e.params?.additionalProperty ?? e.params?.missingProperty
  if (typeof extra === 'string') field = field ? `${field}.${extra}` : extra
  const where = field || context || 'body'
  if (e.params?.pattern === PLAIN_TEXT_PATTERN) return `${where}: ${PLAIN_TEXT_PROBLEM}`
  return `${where}: ${e.message ?? 'is invalid'}`
}
