import { readFileSync } from 'node:fs'
import { keyIdOf } from '@loa/shared/signing'
import { Value } from '@sinclair/typebox/value'
import { AgentError } from '../errors.js'
import { dedupeBrokerUrls, parseBroker } from '../link/brokers.js'
import { FIELDS } from './fields.js'
import type { ZoneConfig } from './zones.js'

export type { ZoneConfig } from './zones.js'

import type { StorageConfig } from './storage.js'

export interface AgentConfig {
  deviceId: string
  /**
   * `url`: one broker. `urls`: several, the link moving to the next when one fails (loadConfig fills it with the
   * checked, deduplicated list, `mqtt.url` first when that was set too); configs built in code may give `url` only.
   */
  mqtt: { url: string; urls?: string[]; username?: string; password?: string }
  controlPlaneUrl: string
  topicRoot: string
  dataDir: string
  output: string
  /** Config key (a contract): the amplifier switch of the one-zone default. */
  relay: { driver: 'simulated' }
  // Optional so configs built in code (tests) need not spell them out; loadConfig always fills them.
  /** Amplifier zones: one amplifier switch each, and a volume. Default: one simulated zone `main`. */
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
    /** Config key (a contract): the longest the technician may hold the amplifier switch on. */
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
   * `file:<path>`: synced while the file exists), and the step of the wall clock that counts as a jump (clock/clock.ts).
   */
  clock?: { sync: string; jumpThresholdMs: number }
  /** The agent's database and data disk (docs/edge-agent.md, Storage); loadConfig fills the defaults. */
  storage?: StorageConfig
}

export type { Field } from './field.js'

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
  const sources: Record<string, string> = {}
  for (const f of FIELDS) {
    let value: unknown
    let source: string
    const raw = env[f.env]
    if (raw !== undefined && raw !== '') {
      source = f.env
      value = f.kind === 'number' ? (raw.trim() === '' ? Number.NaN : Number(raw)) : raw
      if (f.kind === 'list') value = raw.split(',').map((s) => s.trim())
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
    sources[f.path] = source
  }
  resolveBrokers(out.mqtt as AgentConfig['mqtt'], sources)
  checkKey(out, file)
  // Existing setups have no zones: one simulated zone `main` keeps them working.
  out.zones ??= [{ id: 'main', label: 'main', relay: { driver: 'simulated' } }]
  return out as unknown as AgentConfig
}

const BROKER_URL = /^mqtts?:\/\/[^\s]+$/

/** Every broker URL checked (naming its index), `mqtt.url` joined to `mqtt.urls` when both were set, duplicates dropped. */
function resolveBrokers(mqtt: AgentConfig['mqtt'], sources: Record<string, string>): void {
  const check = (url: string, path: string, source: string) => {
    try {
      if (!BROKER_URL.test(url)) throw new Error('')
      parseBroker(url)
    } catch (err) {
      const why = (err as Error).message
      fail(path, source, `must be a mqtt:// or mqtts:// URL${why ? ` (${why})` : ''}`)
    }
  }
  check(mqtt.url, 'mqtt.url', sources['mqtt.url'] as string)
  if (!mqtt.urls) {
    mqtt.urls = [mqtt.url]
    return
  }
  for (const [i, u] of mqtt.urls.entries()) check(u, `mqtt.urls[${i}]`, sources['mqtt.urls'] as string)
  // The default 127.0.0.1 is no broker anyone chose: only a mqtt.url that was set joins the list.
  const list = dedupeBrokerUrls(sources['mqtt.url'] === 'default' ? mqtt.urls : [mqtt.url, ...mqtt.urls])
  mqtt.urls = list
  mqtt.url = list[0] as string
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
