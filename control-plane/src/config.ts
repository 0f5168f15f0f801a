import path from 'node:path'
import { DEFAULT_TIMEZONE, DEFAULT_TOPIC_ROOT, DESIRED_LIMITS } from '@loa/shared'
import { httpLimitsProblem } from '@loa/shared/http-limits'
import { IANAZone } from 'luxon'
import { DEFAULT_MEDIA_LIMITS, type MediaLimitsConfig, mediaLimitsFromEnv } from './media/config.js'
import { BROKER_LIMIT_VARS, type BrokerLimits, DEFAULT_BROKER_LIMITS } from './mqtt/broker-limits.js'
import type { MicLimits } from './relays/mic/limits.js'
import {
  type ControlPlaneHttpLimits,
  DEFAULT_CONTROL_PLANE_HTTP_LIMITS,
  HTTP_LIMIT_VARS,
  readLimits,
} from './server/limits-config.js'

export type MediaCodec = 'opus' | 'mp3'

export interface ControlPlaneConfig extends MediaLimitsConfig {
  dataDir: string
  httpHost: string
  httpPort: number
  mqttHost: string
  mqttPort: number
  /** When set, use this external broker instead of embedding aedes. */
  mqttUrl: string | null
  topicRoot: string
  mediaCodec: MediaCodec
  mediaBitrateKbps: number
  loudnessLufs: number
  maxUploadMb: number
  heartbeatTimeoutS: number
  timezone: string
  logLevel: string
  /** The control plane's broker identity (external broker); embedded: generated into the data dir. */
  mqttUsername: string | null
  mqttPassword: string | null
  /** Password of the read-only `loa-monitor` broker identity; null: no monitor identity. */
  mqttMonitorPassword: string | null
  /** PEM files: with cert and key the broker speaks MQTT over TLS and the API HTTPS (docs/security.md). */
  tlsCertFile: string | null
  tlsKeyFile: string | null
  /** CA that signed device certificates (client auth) and that the control plane trusts for its own broker. */
  tlsCaFile: string | null
  /** Accept TLS client certificates on the broker: CN = device id. */
  mqttClientCerts: boolean
  /** Web console map: a tile URL template ({z}/{x}/{y}); null on an offline network (plain background). */
  mapTileUrl: string | null
  mapTileAttribution: string
  /** How agents reach this control plane over HTTP (LOA_PUBLIC_URL), for microphone streams; null: as the browser did. */
  publicUrl: string | null
  /** CAP: an Alert or Update without `expires` sent longer ago than this is refused as stale (docs/alerts.md). */
  capMaxAgeS: number
  /** CAP: a message whose `sent` is further ahead of this server's clock than this is refused. */
  capMaxFutureS: number
  /** Microphone session limits; not from the environment (tests shorten them). Defaults in relays/mic/limits.ts. */
  micLimits?: Partial<MicLimits>
  /** Packet sizes, login time and throttling on the embedded broker (LOA_MQTT_*, docs/security.md "Limits"). */
  mqttLimits: BrokerLimits
  /** HTTP timeouts, body rate and concurrent uploads (LOA_HTTP_*, docs/security.md "Limits"). */
  httpLimits: ControlPlaneHttpLimits
  /** Largest desired-state message built, envelope included (at most DESIRED_LIMITS.maxBytes, what agents accept). */
  desiredMaxBytes: number
  /** A device's next desired state waits until its changes have been quiet this long (a burst is sent once)… */
  desiredPublishQuietMs: number
  /** …but at most this long after its first pending change. */
  desiredPublishMaxDelayMs: number
}

export const DEFAULT_CONFIG: Omit<ControlPlaneConfig, 'dataDir'> = {
  httpHost: '0.0.0.0',
  httpPort: 8080,
  mqttHost: '0.0.0.0',
  mqttPort: 1883,
  mqttUrl: null,
  topicRoot: DEFAULT_TOPIC_ROOT,
  mediaCodec: 'opus',
  mediaBitrateKbps: 32,
  loudnessLufs: -16,
  maxUploadMb: 200,
  heartbeatTimeoutS: 90,
  timezone: DEFAULT_TIMEZONE,
  logLevel: 'info',
  mqttUsername: null,
  mqttPassword: null,
  mqttMonitorPassword: null,
  tlsCertFile: null,
  tlsKeyFile: null,
  tlsCaFile: null,
  mqttClientCerts: false,
  mapTileUrl: null,
  mapTileAttribution: '',
  publicUrl: null,
  capMaxAgeS: 3 * 3600,
  capMaxFutureS: 300,
  mqttLimits: DEFAULT_BROKER_LIMITS,
  httpLimits: DEFAULT_CONTROL_PLANE_HTTP_LIMITS,
  ...DEFAULT_MEDIA_LIMITS,
  desiredMaxBytes: DESIRED_LIMITS.maxBytes,
  desiredPublishQuietMs: 1000,
  desiredPublishMaxDelayMs: 30_000,
}

/** Thrown for a bad environment variable; the message always names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`)
    this.name = 'ConfigError'
  }
}

function num(
  env: NodeJS.ProcessEnv,
  name: string,
  def: number,
  min: number,
  max: number,
  int = true,
): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return def
  const n = Number(raw)
  if (!Number.isFinite(n) || (int && !Number.isInteger(n)) || n < min || n > max) {
    throw new ConfigError(
      name,
      `expected ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got "${raw}"`,
    )
  }
  return n
}

function str(env: NodeJS.ProcessEnv, name: string, def: string): string {
  const raw = env[name]
  return raw === undefined || raw === '' ? def : raw
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

export function loadConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ControlPlaneConfig {
  const codec = str(env, 'LOA_MEDIA_CODEC', DEFAULT_CONFIG.mediaCodec)
  if (codec !== 'opus' && codec !== 'mp3')
    throw new ConfigError('LOA_MEDIA_CODEC', `expected opus or mp3, got "${codec}"`)
  const timezone = str(env, 'LOA_TIMEZONE', DEFAULT_CONFIG.timezone)
  if (!IANAZone.isValidZone(timezone))
    throw new ConfigError('LOA_TIMEZONE', `unknown time zone "${timezone}"`)
  const logLevel = str(env, 'LOA_LOG_LEVEL', DEFAULT_CONFIG.logLevel)
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError('LOA_LOG_LEVEL', `unknown level "${logLevel}"`)
  const topicRoot = str(env, 'LOA_TOPIC_ROOT', DEFAULT_CONFIG.topicRoot)
  if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(topicRoot)) {
    throw new ConfigError('LOA_TOPIC_ROOT', `invalid topic root "${topicRoot}"`)
  }
  const mqttUrl = env.LOA_MQTT_URL ? env.LOA_MQTT_URL : null
  if (mqttUrl !== null) {
    try {
      const u = new URL(mqttUrl)
      if (!['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'].includes(u.protocol)) throw new Error('protocol')
    } catch {
      throw new ConfigError('LOA_MQTT_URL', `not an mqtt:// URL: "${mqttUrl}"`)
    }
  }
  const mapTileUrl = env.LOA_MAP_TILE_URL ? env.LOA_MAP_TILE_URL : null
  if (mapTileUrl !== null && !/^(https?:\/\/|\/)\S+$/.test(mapTileUrl)) {
    throw new ConfigError(
      'LOA_MAP_TILE_URL',
      `expected an http(s) or /path URL template, got "${mapTileUrl}"`,
    )
  }
  const limitNum = (name: string, def: number, min: number, max: number) => num(env, name, def, min, max)
  const mqttLimits = readLimits(DEFAULT_BROKER_LIMITS, BROKER_LIMIT_VARS, limitNum)
  if (mqttLimits.loginFailureDelayMs >= mqttLimits.loginTimeoutMs) {
    throw new ConfigError('LOA_MQTT_LOGIN_FAILURE_DELAY_MS', 'must be shorter than LOA_MQTT_LOGIN_TIMEOUT_MS')
  }
  const httpLimits = readLimits(DEFAULT_CONTROL_PLANE_HTTP_LIMITS, HTTP_LIMIT_VARS, limitNum)
  const httpProblem = httpLimitsProblem(httpLimits)
  if (httpProblem) throw new ConfigError('LOA_HTTP_HEADERS_TIMEOUT_MS', httpProblem)
  return {
    dataDir: path.resolve(str(env, 'LOA_DATA_DIR', './data')),
    httpHost: str(env, 'LOA_HTTP_HOST', DEFAULT_CONFIG.httpHost),
    httpPort: num(env, 'LOA_HTTP_PORT', DEFAULT_CONFIG.httpPort, 0, 65535),
    mqttHost: str(env, 'LOA_MQTT_HOST', DEFAULT_CONFIG.mqttHost),
    mqttPort: num(env, 'LOA_MQTT_PORT', DEFAULT_CONFIG.mqttPort, 0, 65535),
    mqttUrl,
    topicRoot,
    mediaCodec: codec,
    mediaBitrateKbps: num(env, 'LOA_MEDIA_BITRATE_KBPS', DEFAULT_CONFIG.mediaBitrateKbps, 6, 320),
    loudnessLufs: num(env, 'LOA_LOUDNESS_LUFS', DEFAULT_CONFIG.loudnessLufs, -70, -5, false),
    maxUploadMb: num(env, 'LOA_MAX_UPLOAD_MB', DEFAULT_CONFIG.maxUploadMb, 0.001, 10_000, false),
    heartbeatTimeoutS: num(
      env,
      'LOA_HEARTBEAT_TIMEOUT_S',
      DEFAULT_CONFIG.heartbeatTimeoutS,
      1,
      86_400,
      false,
    ),
    timezone,
    logLevel,
    mqttUsername: env.LOA_MQTT_USERNAME || null,
    mqttPassword: env.LOA_MQTT_PASSWORD || null,
    mqttMonitorPassword: env.LOA_MQTT_MONITOR_PASSWORD || null,
    tlsCertFile: env.LOA_TLS_CERT_FILE ? path.resolve(env.LOA_TLS_CERT_FILE) : null,
    tlsKeyFile: env.LOA_TLS_KEY_FILE ? path.resolve(env.LOA_TLS_KEY_FILE) : null,
    tlsCaFile: env.LOA_TLS_CA_FILE ? path.resolve(env.LOA_TLS_CA_FILE) : null,
    mqttClientCerts: bool(env, 'LOA_MQTT_CLIENT_CERTS'),
    mapTileUrl,
    mapTileAttribution: str(env, 'LOA_MAP_TILE_ATTRIBUTION', DEFAULT_CONFIG.mapTileAttribution),
    publicUrl: publicUrlOf(env.LOA_PUBLIC_URL),
    capMaxAgeS: num(env, 'LOA_CAP_MAX_AGE_S', DEFAULT_CONFIG.capMaxAgeS, 60, 7 * 86_400),
    capMaxFutureS: num(env, 'LOA_CAP_MAX_FUTURE_S', DEFAULT_CONFIG.capMaxFutureS, 0, 86_400),
    mqttLimits,
    httpLimits,
    ...mediaLimitsFromEnv((name, def, min, max, int) => num(env, name, def, min, max, int)),
    desiredMaxBytes: num(
      env,
      'LOA_DESIRED_MAX_BYTES',
      DEFAULT_CONFIG.desiredMaxBytes,
      64 * 1024,
      DESIRED_LIMITS.maxBytes,
    ),
    desiredPublishQuietMs: num(
      env,
      'LOA_DESIRED_PUBLISH_QUIET_MS',
      DEFAULT_CONFIG.desiredPublishQuietMs,
      0,
      600_000,
    ),
    desiredPublishMaxDelayMs: num(
      env,
      'LOA_DESIRED_PUBLISH_MAX_DELAY_MS',
      DEFAULT_CONFIG.desiredPublishMaxDelayMs,
      0,
      3_600_000,
    ),
  }
}

/** LOA_PUBLIC_URL: an http(s) origin (and optional path), without a trailing slash. */
function publicUrlOf(raw: string | undefined): string | null {
  if (!raw) return null
  try {
    const u = new URL(raw)
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.search && !u.hash) {
      return raw.replace(/\/+$/, '')
    }
  } catch {
    // reported below
  }
  throw new ConfigError(
    'LOA_PUBLIC_URL',
    `expected an http(s) URL such as https://loa.example.vn, got "${raw}"`,
  )
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false
  if (raw === '1' || raw === 'true') return true
  throw new ConfigError(name, `expected 1/true or 0/false, got "${raw}"`)
}
