import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { BodyFor } from '@loa/shared'
import { makeTone } from '@loa/testkit'
import mqtt, { type MqttClient } from 'mqtt'
import pino from 'pino'
import type { Role } from '../src/access/actor.js'
import { newApiTokenString } from '../src/access/api-tokens.js'
import { type ControlPlane, type ControlPlaneOptions, createControlPlane } from '../src/index.js'
import type { ClusterInput } from '../src/org/model.js'

/** Helpers shared by this package's tests: real control plane, real broker, real ffmpeg. */

export type ApiCall = <T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
) => Promise<{ status: number; body: T }>

export interface TestPlane {
  cp: ControlPlane
  dir: string
  /** Calls the API as a province administrator of the whole tree (the bootstrap token). */
  api: ApiCall
  /** A province-admin API token (`loa_<id>_<secret>`) and the headers that send it. */
  adminToken: string
  adminHeaders: Record<string, string>
  /** Calls the API with a fresh API token of this role and scope (created on first use, then reused). */
  apiAs(actor: { role: Role; scopeUnitId: string | null }): ApiCall
  /** A fresh API token of this role and scope. */
  tokenFor(role: Role, scopeUnitId: string | null): Promise<string>
  /** Calls the API with exactly these headers (none: unauthenticated). */
  apiWith(headers: Record<string, string>): ApiCall
  close(): Promise<void>
}

export async function startTestPlane(opts: Partial<ControlPlaneOptions> = {}): Promise<TestPlane> {
  const dir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cp-'))
  const adminToken = opts.bootstrapToken ?? newApiTokenString('testadmin')
  const cp = await createControlPlane({
    httpHost: '127.0.0.1',
    httpPort: 0,
    mqttHost: '127.0.0.1',
    mqttPort: 0,
    logger: pino({ level: process.env.LOA_TEST_LOG ?? 'silent' }),
    desiredDebounceMs: 5,
    alertDesiredDelayMs: 0,
    ingestFlushMs: 20,
    ...opts,
    bootstrapToken: adminToken,
    dataDir: dir,
  })
  const adminHeaders = { authorization: `Bearer ${adminToken}` }
  const apiWith =
    (headers: Record<string, string>): ApiCall =>
    async (method, url, body) => {
      const res = await cp.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
      })
      const text = res.body
      let parsed: unknown = text
      try {
        parsed = text ? JSON.parse(text) : null
      } catch {
        // Not JSON (e.g. /metrics): hand back the text.
      }
      return { status: res.statusCode, body: parsed as never }
    }
  const api = apiWith(adminHeaders)
  const tokenFor = async (role: Role, scopeUnitId: string | null): Promise<string> => {
    const r = await api<{ secret: string }>('POST', '/api/tokens', {
      name: `test ${role}`,
      role,
      scopeUnitId,
    })
    if (r.status !== 201) throw new Error(`token for ${role}@${scopeUnitId}: ${JSON.stringify(r.body)}`)
    return r.body.secret
  }
  const asCache = new Map<string, Promise<string>>()
  return {
    cp,
    dir,
    api,
    adminToken,
    adminHeaders,
    apiWith,
    tokenFor,
    apiAs(actor) {
      const key = `${actor.role}@${actor.scopeUnitId}`
      let token = asCache.get(key)
      if (!token) {
        token = tokenFor(actor.role, actor.scopeUnitId)
        asCache.set(key, token)
      }
      const t = token
      return async (method, url, body) => apiWith({ authorization: `Bearer ${await t}` })(method, url, body)
    },
    async close() {
      await cp.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A real audio file made by ffmpeg's sine generator (format from `name`'s extension). */
export function makeAudio(dir: string, name: string, opts: { seconds?: number; freq?: number } = {}): string {
  return makeTone(path.join(dir, name), opts.seconds ?? 2, opts.freq ?? 440)
}

export function multipartBody(
  field: string,
  filename: string,
  content: Buffer,
  contentType = 'application/octet-stream',
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----loa${Math.random().toString(16).slice(2)}`
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`,
    'utf8',
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')
  return {
    payload: Buffer.concat([head, content, tail]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  }
}

export async function uploadMedia(
  t: TestPlane,
  content: Buffer,
  filename = 'bulletin.wav',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { payload, headers } = multipartBody('file', filename, content, 'audio/wav')
  const res = await t.cp.app.inject({
    method: 'POST',
    url: '/api/media',
    payload,
    headers: { ...headers, ...t.adminHeaders },
  })
  return { status: res.statusCode, body: JSON.parse(res.body) }
}

export async function connectClient(
  url: string,
  clientId: string,
  opts: mqtt.IClientOptions = {},
): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, protocolVersion: 4, reconnectPeriod: 200, ...opts })
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
  })
  return client
}

/** The control plane's own broker identity (from its data dir): may read and write the whole topic tree. */
export async function planeClient(
  t: TestPlane,
  clientId: string,
  opts: mqtt.IClientOptions = {},
): Promise<MqttClient> {
  const password = fs.readFileSync(path.join(t.dir, 'mqtt-control-plane.secret'), 'utf8').trim()
  return connectClient(t.cp.mqttUrl, clientId, { username: 'loa-control-plane', password, ...opts })
}

const issued = new WeakMap<TestPlane, Map<string, string>>()

/** A device's MQTT password, issued once per plane through the API (issuing again would rotate it). */
export async function devicePassword(t: TestPlane, deviceId: string): Promise<string> {
  const known = issued.get(t) ?? new Map<string, string>()
  issued.set(t, known)
  let password = known.get(deviceId)
  if (!password) {
    const r = await t.api<{ password: string }>('POST', `/api/clusters/${deviceId}/credentials`)
    if (r.status !== 201) throw new Error(`credentials for ${deviceId}: ${JSON.stringify(r.body)}`)
    password = r.body.password
    known.set(deviceId, password)
  }
  return password
}

/** A client that is the device `deviceId`, with its own credentials and client id, as the agent connects. */
export async function deviceClient(
  t: TestPlane,
  deviceId: string,
  opts: mqtt.IClientOptions = {},
): Promise<MqttClient> {
  const password = await devicePassword(t, deviceId)
  return connectClient(t.cp.mqttUrl, `loa-agent-${deviceId}`, { username: deviceId, password, ...opts })
}

/** A heartbeat body as an agent sends it. */
export const telemetryFixture = (
  at: string,
  nowPlaying: BodyFor<'telemetry'>['nowPlaying'] = null,
): BodyFor<'telemetry'> => ({
  at,
  uptimeS: 100,
  agentVersion: '0.1.0',
  cpuLoad1: 0.2,
  cpuCount: 4,
  memTotalBytes: 4e9,
  memFreeBytes: 2e9,
  diskTotalBytes: 32e9,
  diskFreeBytes: 20e9,
  relayOn: nowPlaying !== null,
  nowPlaying,
  outboxPending: 0,
})

/** Creates a small tree: province > commune-a (> village-a1), commune-b; one cluster per leaf-ish unit. */
export async function seedTree(t: TestPlane): Promise<void> {
  const units = [
    { id: 'prov', name: 'Tỉnh', kind: 'province', parentId: null },
    { id: 'xa-a', name: 'Xã A', kind: 'commune', parentId: 'prov' },
    { id: 'thon-a1', name: 'Thôn A1', kind: 'village', parentId: 'xa-a' },
    { id: 'xa-b', name: 'Xã B', kind: 'commune', parentId: 'prov' },
  ]
  for (const u of units) {
    const r = await t.api('POST', '/api/units', u)
    if (r.status !== 201) throw new Error(`seed unit ${u.id}: ${JSON.stringify(r.body)}`)
  }
  const clusters = [
    { id: 'c-a', name: 'Cụm A', unitId: 'xa-a', tags: ['market'] },
    { id: 'c-a1', name: 'Cụm A1', unitId: 'thon-a1', tags: [] },
    { id: 'c-b', name: 'Cụm B', unitId: 'xa-b', tags: ['market', 'coast'] },
  ]
  for (const c of clusters) {
    const r = await t.api('POST', '/api/clusters', c)
    if (r.status !== 201) throw new Error(`seed cluster ${c.id}: ${JSON.stringify(r.body)}`)
  }
}

/** A cluster's configuration as the desired-state compiler takes it. */
export const clusterInput = (id: string, unitId: string, tags: string[] = []): ClusterInput => ({
  id,
  name: id,
  unitId,
  stationId: null,
  zones: [],
  tags,
  lat: null,
  lon: null,
  volume: null,
})

/** MQTT's variable-length remaining length, for tests that write packets by hand. */
export function mqttRemainingLength(n: number): number[] {
  const out: number[] = []
  let x = n
  do {
    let b = x % 128
    x = Math.floor(x / 128)
    if (x > 0) b |= 0x80
    out.push(b)
  } while (x > 0)
  return out
}
