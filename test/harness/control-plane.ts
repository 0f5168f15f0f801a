import { mkdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { newApiTokenString } from '@loa/control-plane'
import { freePort } from '@loa/testkit'

import { type ManagedProcess, startNode } from './process.js'
import { CONTROL_PLANE_MAIN } from './repo.js'

export interface ControlPlaneHandle {
  readonly httpUrl: string
  readonly mqttUrl: string
  readonly httpPort: number
  readonly mqttPort: number
  readonly dataDir: string
  /** The province-admin API token the control plane was started with (LOA_BOOTSTRAP_TOKEN). */
  readonly token: string
  /** `Authorization` header carrying that token. */
  readonly authHeaders: Record<string, string>
  /** fetch() against the control plane with the admin token (merged with the given headers). */
  fetch(path: string, init?: RequestInit): Promise<Response>
  process: ManagedProcess
  /** Starts the process again on the same ports and data (after stop or kill). */
  restart(): Promise<void>
  stop(): Promise<void>
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>
  apiRaw(method: string, path: string, body?: unknown): Promise<Response>
  upload(path: string, name?: string): Promise<{ sha256: string; size: number; durationMs: number }>
  /** The control plane's own broker identity (generated in its data dir): for test clients acting as it. */
  mqttIdentity(): { username: string; password: string }
}

/** Every running control plane by broker URL, so agents started against it can get credentials from it. */
export const planesByMqttUrl = new Map<string, ControlPlaneHandle>()

/** Runs the control plane as a real process with its embedded aedes broker, on free ports. */
export async function startControlPlane(
  dir: string,
  env: Record<string, string> = {},
  ports?: { http: number; mqtt: number },
): Promise<ControlPlaneHandle> {
  const dataDir = join(dir, 'control-plane')
  mkdirSync(dataDir, { recursive: true })
  const httpPort = ports?.http ?? (await freePort())
  const mqttPort = ports?.mqtt ?? (await freePort())
  const token = env.LOA_BOOTSTRAP_TOKEN ?? newApiTokenString('harness')
  const authHeaders = { authorization: `Bearer ${token}` }
  const fullEnv = {
    LOA_BOOTSTRAP_TOKEN: token,
    LOA_DATA_DIR: dataDir,
    LOA_HTTP_HOST: '127.0.0.1',
    LOA_HTTP_PORT: String(httpPort),
    LOA_MQTT_HOST: '127.0.0.1',
    LOA_MQTT_PORT: String(mqttPort),
    LOA_LOG_LEVEL: 'info',
    ...env,
  }
  const launch = async () => {
    const p = startNode(CONTROL_PLANE_MAIN, [], fullEnv, join(dir, 'control-plane.log'))
    await p.waitForLog((l) => l.msg === 'control plane ready', 30_000)
    return p
  }
  const httpUrl = `http://127.0.0.1:${httpPort}`
  const authedFetch = (path: string, init: RequestInit = {}) =>
    fetch(`${httpUrl}${path}`, {
      ...init,
      headers: { ...authHeaders, ...(init.headers as Record<string, string>) },
    })
  const apiRaw = async (method: string, path: string, body?: unknown) =>
    await authedFetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const handle: ControlPlaneHandle = {
    httpUrl,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    httpPort,
    mqttPort,
    dataDir,
    token,
    authHeaders,
    fetch: authedFetch,
    process: await launch(),
    async restart() {
      await handle.process.stop()
      handle.process = await launch()
    },
    async stop() {
      await handle.process.stop()
    },
    apiRaw,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await apiRaw(method, path, body)
      const text = await res.text()
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`)
      return (text ? JSON.parse(text) : undefined) as T
    },
    mqttIdentity() {
      const password = readFileSync(join(dataDir, 'mqtt-control-plane.secret'), 'utf8').trim()
      return { username: 'loa-control-plane', password }
    },
    async upload(path: string, name = basename(path)) {
      const form = new FormData()
      form.append('file', new Blob([await readFile(path)]), name)
      const res = await authedFetch('/api/media', { method: 'POST', body: form })
      const text = await res.text()
      if (!res.ok) throw new Error(`upload ${name} → ${res.status}: ${text}`)
      return JSON.parse(text) as { sha256: string; size: number; durationMs: number }
    },
  }
  planesByMqttUrl.set(handle.mqttUrl, handle)
  return handle
}
