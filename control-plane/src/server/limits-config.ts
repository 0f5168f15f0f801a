import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '@loa/shared/http-limits'

/** The control plane's HTTP limits: the shared ones and uploads per user (or API token). */
export interface ControlPlaneHttpLimits extends HttpLimits {
  maxUploadsPerUser: number
}

export const DEFAULT_CONTROL_PLANE_HTTP_LIMITS: ControlPlaneHttpLimits = {
  ...DEFAULT_HTTP_LIMITS,
  maxUploadsPerUser: 3,
}

/** One limit read from the environment: variable, field, and the accepted integer range. */
export type LimitVar<T> = readonly [env: string, field: keyof T, min: number, max: number]

export const HTTP_LIMIT_VARS: readonly LimitVar<ControlPlaneHttpLimits>[] = [
  ['LOA_HTTP_HEADERS_TIMEOUT_MS', 'headersTimeoutMs', 100, 600_000],
  ['LOA_HTTP_REQUEST_TIMEOUT_MS', 'requestTimeoutMs', 0, 86_400_000],
  ['LOA_HTTP_IDLE_TIMEOUT_MS', 'idleTimeoutMs', 0, 3_600_000],
  ['LOA_HTTP_KEEPALIVE_TIMEOUT_MS', 'keepAliveTimeoutMs', 100, 600_000],
  ['LOA_HTTP_MIN_BODY_RATE', 'minBodyBytesPerS', 0, 100_000_000],
  ['LOA_HTTP_BODY_RATE_WINDOW_MS', 'bodyRateWindowMs', 100, 600_000],
  ['LOA_HTTP_MAX_UPLOADS_PER_ADDRESS', 'maxUploadsPerAddress', 1, 10_000],
  ['LOA_HTTP_MAX_UPLOADS_PER_USER', 'maxUploadsPerUser', 1, 1_000],
]

/** Reads a table of limits with `num` (edge-agent/src/config/config.ts), starting from the defaults. */
export function readLimits<T extends object>(
  defaults: T,
  vars: readonly LimitVar<T>[],
  num: (name: string, def: number, min: number, max: number) => number,
): T {
  const out = { ...defaults }
  for (const [env, field, min, max] of vars) {
    ;(out as Record<keyof T, unknown>)[field] = num(env, defaults[field] as number, min, max)
  }
  return out
}
