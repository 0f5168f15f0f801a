import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '@loa/testkit'
import Database from 'better-sqlite3'
import { planesByMqttUrl } from './control-plane.js'

import { type ManagedProcess, startNode } from './process.js'
import { AGENT_MAIN } from './repo.js'

export interface AgentHandle {
  readonly deviceId: string
  readonly dataDir: string
  /** The technician's page (listening on 127.0.0.1). */
  readonly localPageUrl: string
  process: ManagedProcess
  /** Starts the agent again with the same identity and data directory. */
  start(extraEnv?: Record<string, string>): Promise<void>
  stop(): Promise<number | null>
  kill9(): Promise<void>
  /** Reads the agent's own SQLite file (read-only, while it runs). */
  query<T>(sql: string, ...params: unknown[]): T[]
}

export interface AgentOptions {
  mqttUrl: string
  controlPlaneUrl: string
  env?: Record<string, string>
  /** scrypt hash of the technician password (hashPassword); without it the local page refuses logins. */
  technicianPasswordHash?: string
  /** Port of the technician's page; a free one by default, so agents never compete for 8090. */
  localPagePort?: number
}

/**
 * What a provisioned box holds, from the control plane that runs the broker: its own MQTT credentials (issued
 * once per device and plane) and the control plane's public signing key to pin.
 */
const provisioned = new Map<string, Record<string, string>>()
export async function provision(mqttUrl: string, deviceId: string): Promise<Record<string, string>> {
  const key = `${mqttUrl} ${deviceId}`
  const known = provisioned.get(key)
  if (known) return known
  const cp = planesByMqttUrl.get(mqttUrl)
  if (!cp)
    throw new Error(`no harness control plane runs the broker at ${mqttUrl}: start it with startControlPlane`)
  const creds = await cp.api<{ username: string; password: string }>(
    'POST',
    `/api/clusters/${deviceId}/credentials`,
  )
  const keys = await cp.api<{ current: string; keys: { keyId: string; publicKey: string }[] }>(
    'GET',
    '/api/signing-keys',
  )
  const current = keys.keys.find((k) => k.keyId === keys.current)
  if (!current) throw new Error('control plane has no current signing key')
  const env = {
    LOA_MQTT_USERNAME: creds.username,
    LOA_MQTT_PASSWORD: creds.password,
    LOA_CONTROL_PLANE_KEY_ID: current.keyId,
    LOA_CONTROL_PLANE_PUBLIC_KEY: current.publicKey,
  }
  provisioned.set(key, env)
  return env
}

/** Runs one simulated cluster: a real agent process with its own SQLite file and MQTT connection. */
export async function startAgent(dir: string, deviceId: string, opts: AgentOptions): Promise<AgentHandle> {
  const dataDir = join(dir, 'agents', deviceId)
  mkdirSync(dataDir, { recursive: true })
  const localPagePort = opts.localPagePort ?? (await freePort())
  const baseEnv = {
    LOA_DEVICE_ID: deviceId,
    LOA_MQTT_URL: opts.mqttUrl,
    LOA_CONTROL_PLANE_URL: opts.controlPlaneUrl,
    LOA_DATA_DIR: dataDir,
    LOA_OUTPUT: 'null',
    LOA_PREROLL_MS: '300',
    LOA_POSTROLL_MS: '300',
    LOA_TELEMETRY_INTERVAL_S: '5',
    // A 1 MiB disk reserve, not 16: the suite starts many agents in the machine's temp directory.
    LOA_DISK_RESERVE_MB: '1',
    LOA_LOG_LEVEL: 'info',
    // The test machine's clock is the reference, whatever its NTP state (docs/edge-agent.md "Time").
    LOA_CLOCK_SYNC: 'trusted',
    // Its own broker credentials (also used for media downloads) and the pinned signing key.
    ...(await provision(opts.mqttUrl, deviceId)),
    LOA_LOCAL_PAGE_HOST: '127.0.0.1',
    LOA_LOCAL_PAGE_PORT: String(localPagePort),
    ...(opts.technicianPasswordHash ? { LOA_TECHNICIAN_PASSWORD_HASH: opts.technicianPasswordHash } : {}),
    ...opts.env,
  }
  const launch = (extra: Record<string, string> = {}) =>
    startNode(AGENT_MAIN, [], { ...baseEnv, ...extra }, join(dir, `agent-${deviceId}.log`))
  const handle: AgentHandle = {
    deviceId,
    dataDir,
    localPageUrl: `http://127.0.0.1:${localPagePort}`,
    process: launch(),
    async start(extraEnv) {
      handle.process = launch(extraEnv)
    },
    stop: () => handle.process.stop(),
    kill9: () => handle.process.kill9(),
    query<T>(sql: string, ...params: unknown[]): T[] {
      const db = new Database(join(dataDir, 'agent.db'), { readonly: true, fileMustExist: true })
      try {
        db.pragma('busy_timeout = 5000')
        return db.prepare(sql).all(...params) as T[]
      } finally {
        db.close()
      }
    },
  }
  return handle
}
