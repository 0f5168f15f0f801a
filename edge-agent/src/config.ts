import { readFileSync } from 'node:fs'
import { DEFAULT_TIMEZONE, DEFAULT_TOPIC_ROOT, ID_PATTERN, isValidTimeZone } from '@loa/shared'
import { keyIdOf } from '@loa/shared/signing'
import { type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { outputUsesCardIndex } from './audio-cards.js'
import { AgentError } from './errors.js'
import { Zone, type ZoneConfig, zonesValid } from './zone-config.js'

export type { ZoneConfig } from './zone-config.js'

import { STORAGE_FIELDS, type StorageConfig } from './config-storage.js'

export interface AgentConfig {
  deviceId: string
  mqtt: { url: string; username?: string; password?: string }
  controlPlaneUrl: string
  topicRoot: string
  dataDir: string
  output: string
  relay: { driver: 'simulated' }
  // Optional so configs built in code (tests) need not spell them out; loadConfig always fills them.
  /** Amplifier zones: one relay each, and a volume. Default: one simulated zone `main`. */
  zones?: ZoneConfig[]
  gpio?: { sysfsRoot: string }
  audio?: { cardsFile: string }
  modem?: { port?: string; baudRate: number; gps: 'off' | 'qgpsloc' | 'nmea'; gpsPort?: string }
  prerollMs: number
  postrollMs: number
  cacheBudgetMb: number
  minFreeMb: number
  telemetryIntervalS: number
  timezone: string
  logLevel: string
  /** The technician's page served by the agent (docs/technician-page.md); absent in tests that build configs. */
  localPage?: {
    port: number
    host: string
    maxRelaySeconds: number
    /** Request bodies slower than this on average over `bodyRateWindowS` are cut (docs/security.md "Limits"). */
    minBodyBytesPerS?: number
    bodyRateWindowS?: number
  }
  /** The control plane's public signing key pinned at provisioning (docs/security.md); newer keys follow by chain. */
  controlPlaneKey?: { keyId: string; publicKey: string }
  /** Development only: run without a pinned key, accepting unsigned commands and desired states. */
  insecureAcceptUnsigned?: boolean
  /** PEM files for mqtts:// and https://: the CA to trust, and an optional client certificate and key. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string }
  /** `passwordHash`: scrypt string from hashPassword in @loa/shared/password-hash; absent refuses every login. */
  technician?: { passwordHash?: string }
  /**
   * Whether the local clock can be trusted (`auto`: systemd-timesyncd / timedatectl; `trusted`: e.g. a battery RTC;
   * `file:<path>`: synced while the file exists), and the step of the wall clock that counts as a jump (clock.ts).
   */
  clock?: { sync: string; jumpThresholdMs: number }
  /** The agent's database and data disk (docs/edge-agent.md, Storage); loadConfig fills the defaults. */
  storage?: StorageConfig
}

type Kind = 'string' | 'number' | 'json'
export interface Field {
  path: string
  env: string
  kind: Kind
  schema: TSchema
  /** Shown after the field name when the value fails its schema. */
  rule: string
  default?: unknown
  required?: boolean
  check?: (v: never) => boolean
}

const Ms = Type.Integer({ minimum: 0, maximum: 60_000 })
const FIELDS: Field[] = [
  {
    path: 'deviceId',
    env: 'LOA_DEVICE_ID',
    kind: 'string',
    schema: Type.String({ pattern: ID_PATTERN }),
    rule: `must match ${ID_PATTERN}`,
    required: true,
  },
  {
    path: 'mqtt.url',
    env: 'LOA_MQTT_URL',
    kind: 'string',
    schema: Type.String({ pattern: '^mqtts?://[^\\s]+$' }),
    rule: 'must be a mqtt:// or mqtts:// URL',
    default: 'mqtt://127.0.0.1:1883',
  },
  {
    path: 'mqtt.username',
    env: 'LOA_MQTT_USERNAME',
    kind: 'string',
    schema: Type.String({ maxLength: 256 }),
    rule: 'must be a string',
  },
  {
    path: 'mqtt.password',
    env: 'LOA_MQTT_PASSWORD',
    kind: 'string',
    schema: Type.String({ maxLength: 1024 }),
    rule: 'must be a string',
  },
  {
    path: 'controlPlaneUrl',
    env: 'LOA_CONTROL_PLANE_URL',
    kind: 'string',
    schema: Type.String({ pattern: '^https?://[^\\s]+$' }),
    rule: 'must be an http:// or https:// URL',
    default: 'http://127.0.0.1:8080',
  },
  {
    path: 'topicRoot',
    env: 'LOA_TOPIC_ROOT',
    kind: 'string',
    schema: Type.String({ pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$' }),
    rule: 'must be letters, digits, "_" and "-" separated by "/"',
    default: DEFAULT_TOPIC_ROOT,
  },
  {
    path: 'dataDir',
    env: 'LOA_DATA_DIR',
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    rule: 'must be a directory path',
    default: '/var/lib/loa',
  },
  {
    path: 'output',
    env: 'LOA_OUTPUT',
    kind: 'string',
    schema: Type.String({ pattern: '^(null|alsa:\\S+|file:.+)$' }),
    rule: 'must be alsa:<device> (a card by name, e.g. plughw:CARD=Headphones,DEV=0, never an index), file:<dir> or null',
    default: 'null',
    check: (v: string) => !outputUsesCardIndex(v),
  },
  {
    path: 'relay.driver',
    env: 'LOA_RELAY_DRIVER',
    kind: 'string',
    schema: Type.Literal('simulated'),
    rule: 'must be "simulated"',
    default: 'simulated',
  },
  {
    path: 'prerollMs',
    env: 'LOA_PREROLL_MS',
    kind: 'number',
    schema: Ms,
    rule: 'must be an integer 0–60000',
    default: 500,
  },
  {
    path: 'postrollMs',
    env: 'LOA_POSTROLL_MS',
    kind: 'number',
    schema: Ms,
    rule: 'must be an integer 0–60000',
    default: 1000,
  },
  {
    path: 'cacheBudgetMb',
    env: 'LOA_CACHE_BUDGET_MB',
    kind: 'number',
    schema: Type.Number({ minimum: 1 }),
    rule: 'must be a number ≥ 1',
    default: 2048,
  },
  {
    path: 'minFreeMb',
    env: 'LOA_MIN_FREE_MB',
    kind: 'number',
    schema: Type.Number({ minimum: 0 }),
    rule: 'must be a number ≥ 0',
    default: 100,
  },
  {
    path: 'telemetryIntervalS',
    env: 'LOA_TELEMETRY_INTERVAL_S',
    kind: 'number',
    schema: Type.Number({ minimum: 1, maximum: 86_400 }),
    rule: 'must be a number 1–86400',
    default: 30,
  },
  {
    path: 'timezone',
    env: 'LOA_TIMEZONE',
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    rule: 'must be an IANA time zone',
    default: DEFAULT_TIMEZONE,
    check: (v: string) => isValidTimeZone(v),
  },
  {
    path: 'logLevel',
    env: 'LOA_LOG_LEVEL',
    kind: 'string',
    schema: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    ),
    rule: 'must be one of fatal, error, warn, info, debug, trace, silent',
    default: 'info',
  },
  {
    path: 'localPage.port',
    env: 'LOA_LOCAL_PAGE_PORT',
    kind: 'number',
    schema: Type.Integer({ minimum: 0, maximum: 65_535 }),
    rule: 'must be an integer 0–65535 (0: any free port)',
    default: 8090,
  },
  {
    path: 'localPage.host',
    env: 'LOA_LOCAL_PAGE_HOST',
    kind: 'string',
    schema: Type.String({ minLength: 1, maxLength: 255 }),
    rule: 'must be an address to listen on (0.0.0.0, 127.0.0.1, ...) or "off"',
    default: '0.0.0.0',
  },
  {
    path: 'localPage.maxRelaySeconds',
    env: 'LOA_LOCAL_PAGE_MAX_RELAY_S',
    kind: 'number',
    schema: Type.Integer({ minimum: 5, maximum: 3600 }),
    rule: 'must be an integer 5–3600',
    default: 300,
  },
  {
    path: 'localPage.minBodyBytesPerS',
    env: 'LOA_LOCAL_PAGE_MIN_BODY_RATE',
    kind: 'number',
    schema: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
    rule: 'must be an integer 0–100000000 (bytes/s; 0: no minimum)',
    default: 2048,
  },
  {
    path: 'localPage.bodyRateWindowS',
    env: 'LOA_LOCAL_PAGE_BODY_RATE_WINDOW_S',
    kind: 'number',
    schema: Type.Integer({ minimum: 1, maximum: 600 }),
    rule: 'must be an integer 1–600 (seconds)',
    default: 30,
  },
  {
    path: 'technician.passwordHash',
    env: 'LOA_TECHNICIAN_PASSWORD_HASH',
    kind: 'string',
    schema: Type.String({ pattern: '^scrypt\\$\\d+\\$\\d+\\$\\d+\\$[A-Za-z0-9_-]+\\$[A-Za-z0-9_-]+$' }),
    rule: 'must be a scrypt$N$r$p$salt$hash string (loa-cli or hashPassword in @loa/shared/password-hash)',
  },
  {
    path: 'zones',
    env: 'LOA_ZONES',
    kind: 'json',
    schema: Type.Array(Zone, { minItems: 1, maxItems: 16 }),
    rule: 'must be a list of { id, label?, relay: { driver, chip, line, activeLow? }, volume? } with unique ids; gpiod and sysfs need chip and line',
    check: (v: ZoneConfig[]) => zonesValid(v),
  },
  {
    path: 'gpio.sysfsRoot',
    env: 'LOA_GPIO_SYSFS_ROOT',
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    rule: 'must be a directory path',
    default: '/sys/class/gpio',
  },
  {
    path: 'audio.cardsFile',
    env: 'LOA_ASOUND_CARDS',
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    rule: 'must be a file path',
    default: '/proc/asound/cards',
  },
  {
    path: 'modem.port',
    env: 'LOA_MODEM_PORT',
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    rule: 'must be a serial device path (prefer /dev/serial/by-id/...)',
  },
  {
    path: 'modem.baudRate',
    env: 'LOA_MODEM_BAUD',
    kind: 'number',
    schema: Type.Integer({ minimum: 300, maximum: 4_000_000 }),
    rule: 'must be a baud rate',
    default: 115200,
  },
  {
    path: 'modem.gps',
    env: 'LOA_MODEM_GPS',
    kind: 'string',
    schema: Type.Union([Type.Literal('off'), Type.Literal('qgpsloc'), Type.Literal('nmea')]),
    rule: 'must be off, qgpsloc or nmea',
    default: 'off',
  },
  {
    path: 'modem.gpsPort',
    env: 'LOA_GPS_PORT',
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    rule: "must be a serial device path (the modem's NMEA port)",
  },
  {
    path: 'controlPlaneKey.keyId',
    env: 'LOA_CONTROL_PLANE_KEY_ID',
    kind: 'string',
    schema: Type.String({ pattern: '^[0-9a-f]{16}$' }),
    rule: 'must be 16 hex digits (keyId from GET /api/signing-keys)',
  },
  {
    path: 'controlPlaneKey.publicKey',
    env: 'LOA_CONTROL_PLANE_PUBLIC_KEY',
    kind: 'string',
    schema: Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$' }),
    rule: 'must be a base64 Ed25519 public key (publicKey from GET /api/signing-keys)',
  },
  {
    path: 'insecureAcceptUnsigned',
    env: 'LOA_INSECURE_ACCEPT_UNSIGNED',
    kind: 'json',
    schema: Type.Boolean(),
    rule: 'must be true or false',
    default: false,
  },
  {
    path: 'clock.sync',
    env: 'LOA_CLOCK_SYNC',
    kind: 'string',
    schema: Type.String({ pattern: '^(auto|trusted|file:/.+)$' }),
    rule: 'must be auto, trusted or file:<absolute path> (synced while the file exists)',
    default: 'auto',
  },
  {
    path: 'clock.jumpThresholdMs',
    env: 'LOA_CLOCK_JUMP_MS',
    kind: 'number',
    schema: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
    rule: 'must be an integer 100–3600000',
    default: 1000,
  },
  {
    path: 'tls.caFile',
    env: 'LOA_TLS_CA_FILE',
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    rule: 'must be a PEM file path',
  },
  {
    path: 'tls.certFile',
    env: 'LOA_TLS_CERT_FILE',
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    rule: 'must be a PEM file path',
  },
  {
    path: 'tls.keyFile',
    env: 'LOA_TLS_KEY_FILE',
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    rule: 'must be a PEM file path',
  },
  ...STORAGE_FIELDS,
]

function getPath(obj: unknown, path: string): unknown {
  let cur = obj
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let cur = obj
  for (const key of keys.slice(0, -1)) {
    cur[key] ??= {}
    cur = cur[key] as Record<string, unknown>
  }
  cur[keys[keys.length - 1] as string] = value
}

function fail(path: string, source: string, rule: string): never {
  throw new AgentError('LOA_CONFIG_INVALID', [`${path} (from ${source}): ${rule}`])
}

/**
 * Loads the config: file (`--config` or LOA_CONFIG), then env overrides, then defaults. Every field is checked
 * against its TypeBox schema; the first bad one throws naming the field and where its value came from.
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig {
  const at = argv.indexOf('--config')
  const file = at >= 0 ? argv[at + 1] : env.LOA_CONFIG
  let fromFile: unknown = {}
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      fail('config', file, `cannot read JSON: ${(err as Error).message}`)
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
      fail('config', file, 'must be a JSON object')
    }
  }
  const out: Record<string, unknown> = {}
  for (const f of FIELDS) {
    let value: unknown
    let source: string
    const raw = env[f.env]
    if (raw !== undefined && raw !== '') {
      source = f.env
      value = f.kind === 'number' ? (raw.trim() === '' ? Number.NaN : Number(raw)) : raw
      if (f.kind === 'json') {
        try {
          value = JSON.parse(raw)
        } catch {
          fail(f.path, source, 'must be JSON')
        }
      }
    } else if (getPath(fromFile, f.path) !== undefined) {
      source = file as string
      value = getPath(fromFile, f.path)
    } else if (f.default !== undefined) {
      source = 'default'
      value = f.default
    } else {
      if (f.required) fail(f.path, `${f.env} or the config file`, 'is required')
      continue
    }
    if (!Value.Check(f.schema, value) || (f.check && !f.check(value as never))) fail(f.path, source, f.rule)
    setPath(out, f.path, value)
  }
  checkKey(out, file)
  // Existing setups have no zones: one simulated zone `main` keeps them working.
  out.zones ??= [{ id: 'main', label: 'main', relay: { driver: 'simulated' } }]
  return out as unknown as AgentConfig
}

/** A pinned key is required (both fields, matching each other) unless the insecure development flag is set. */
function checkKey(out: Record<string, unknown>, file: string | undefined): void {
  const key = out.controlPlaneKey as { keyId?: string; publicKey?: string } | undefined
  const where = `LOA_CONTROL_PLANE_KEY_ID/_PUBLIC_KEY or ${file ?? 'the config file'}`
  if (!key?.keyId || !key.publicKey) {
    if (key || out.insecureAcceptUnsigned !== true) {
      fail('controlPlaneKey', where, 'keyId and publicKey are required (or insecureAcceptUnsigned: true)')
    }
    return
  }
  if (keyIdOf(key.publicKey) !== key.keyId) fail('controlPlaneKey', where, 'keyId does not match publicKey')
}
