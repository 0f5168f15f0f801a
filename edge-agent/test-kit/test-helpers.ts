// Shared fixtures for the tests: a real broker, a real HTTP server, real audio. Not used by the agent itself.
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServer as createNetServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AlertSpec,
  Bands,
  type BodyFor,
  type CommandBody,
  type DesiredStateBody,
  encodeMessage,
  type MediaRef,
  type MessageFor,
  type PlayReportBody,
  topicTree,
  type UnaddressedCommandBody,
} from '@loa/shared'
import { generateSigningKey, type Signer, signEnvelope, signerFromPem } from '@loa/shared/signing'
import { makeTone } from '@loa/testkit'
import { Aedes } from 'aedes'
import mqtt, { type MqttClient } from 'mqtt'
import pino from 'pino'

export const silentLog = pino({ level: 'silent' })

export function tmp(prefix = 'loa-agent-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex')
}

/** A real Opus tone of `seconds`, made by ffmpeg. */
export function tone(
  dir: string,
  seconds: number,
  freq = 440,
): { path: string; data: Buffer; sha256: string } {
  const path = makeTone(join(dir, `tone-${freq}-${seconds}.opus`), seconds, freq, {
    args: ['-c:a', 'libopus', '-b:a', '24k'],
  })
  const data = readFileSync(path)
  return { path, data, sha256: sha256(data) }
}

export async function startBroker(): Promise<{ url: string; broker: Aedes; close: () => Promise<void> }> {
  const broker = await Aedes.createBroker()
  const server = createNetServer(broker.handle)
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()))
        for (const s of sockets) s.destroy()
      }),
  }
}

export interface MediaServer {
  url: string
  files: Map<string, Buffer>
  /** Per path: number of requests seen, and the Range headers. */
  requests: { path: string; range: string | undefined }[]
  ignoreRange: boolean
  /** Paths that answer 404 this many more times. */
  failures: Map<string, number>
  /** Paths whose next response sends this many bytes and then goes silent (connection left open). */
  stallAfter: Map<string, number>
  close(): Promise<void>
}

/** Serves `files` by URL path, honouring `Range: bytes=N-` with 206 (unless ignoreRange). */
export async function startMediaServer(): Promise<MediaServer> {
  const ms = {
    files: new Map(),
    requests: [],
    ignoreRange: false,
    stallAfter: new Map(),
    failures: new Map(),
  } as unknown as MediaServer
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    ms.requests.push({ path, range: req.headers.range })
    const left = ms.failures.get(path) ?? 0
    if (left > 0) ms.failures.set(path, left - 1)
    const data = ms.files.get(path)
    if (!data || left > 0) {
      res.writeHead(404).end()
      return
    }
    const stall = ms.stallAfter.get(path)
    if (stall !== undefined) {
      ms.stallAfter.delete(path)
      res.writeHead(200, { 'content-length': data.length })
      res.write(data.subarray(0, stall))
      return
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    if (m && !ms.ignoreRange) {
      const start = Number(m[1])
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end()
        return
      }
      res.writeHead(206, {
        'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
        'content-length': data.length - start,
      })
      res.end(data.subarray(start))
      return
    }
    res.writeHead(200, { 'content-length': data.length }).end(data)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  ms.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  ms.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return ms
}

/** A minimal desired state for device `pi-d` holding `media`. */
export function desired(
  version: number,
  media: { sha256: string; size: number; url: string }[],
): DesiredStateBody {
  return {
    deviceId: 'pi-d',
    version,
    generatedAt: '2026-01-01T00:00:00Z',
    timezone: 'Asia/Ho_Chi_Minh',
    units: [],
    volume: 100,
    schedule: [],
    fallback: null,
    media: media.map((m) => ({ ...m, mime: 'audio/ogg', durationMs: 1000 })),
  }
}

/** A play report of schedule `s-1` (played, no times), with `over` on top. */
export function playReport(over: Partial<PlayReportBody> = {}): PlayReportBody {
  return {
    scheduleId: 's-1',
    title: 'Tin sáng',
    sha256: 'a'.repeat(64),
    level: 'normal',
    priority: 50,
    fallback: false,
    occurrence: '2026-03-01T00:00:00.000Z',
    status: 'played',
    relayOnAt: null,
    startedAt: null,
    endedAt: null,
    relayOffAt: null,
    durationMs: 0,
    ...over,
  }
}

/** What a device sent up, as the test's control plane saw it. */
export interface Upstream {
  topic: string
  body: Record<string, unknown>
}

/**
 * A stand-in control plane on the broker: records everything the devices send (in `ups`) and sends a receipt for
 * each message, as the real one does, so the devices' outboxes drain.
 */
export async function receiptingClient(
  brokerUrl: string,
  clientId: string,
): Promise<{ cp: MqttClient; ups: Upstream[] }> {
  const tree = topicTree('loa')
  const ups: Upstream[] = []
  const cp = await mqtt.connectAsync(brokerUrl, { clientId })
  cp.on('message', (topic, payload) => {
    if (/\/(desired|cmd|receipt)$/.test(topic) || payload.length === 0) return
    const msg = JSON.parse(payload.toString()) as { id: string; body: Record<string, unknown> }
    ups.push({ topic, body: msg.body })
    const device = topic.split('/')[3] as string
    if (!topic.endsWith('/presence')) {
      // After the test has closed the client, a late message is simply not receipted.
      cp.publishAsync(
        tree.device(device, 'receipt'),
        JSON.stringify(encodeMessage('receipt', 'cp', { ids: [msg.id] })),
        { qos: 1 },
      ).catch(() => {})
    }
  })
  await cp.subscribeAsync(`${tree.base}/device/+/+`, { qos: 1 })
  return { cp, ups }
}

/**
 * A live source: an HTTP server that starts a real ffmpeg per listener, encoding a sine tone to MP3 in real
 * time. `down()` kills the encoders and refuses connections (a dead source); `up()` serves again on the same port.
 */
export class StreamSource {
  private server: Server | null = null
  private readonly encoders = new Set<ChildProcess>()
  private readonly sockets = new Set<Socket>()
  port = 0
  listeners = 0
  /** Set by `stall()`: the encoders are gone but the connections stay open, silent. */
  private stalled = false

  get url(): string {
    return `http://127.0.0.1:${this.port}/live.mp3`
  }

  async up(): Promise<void> {
    const server = createServer((_req, res) => {
      if (this.stalled) {
        res.writeHead(200, { 'content-type': 'audio/mpeg' })
        return
      }
      this.listeners++
      const enc = spawn('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=500'],
        ...['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3', 'pipe:1'],
      ])
      this.encoders.add(enc)
      enc.on('close', () => {
        this.encoders.delete(enc)
        if (!this.stalled) res.destroy()
      })
      res.writeHead(200, { 'content-type': 'audio/mpeg' })
      // Not ended with the encoder: a stalled source leaves the connection open and silent.
      enc.stdout.pipe(res, { end: false })
      res.on('close', () => enc.kill('SIGKILL'))
    })
    server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r))
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  /** The source hangs: no more data, connections left open (only a timeout notices). */
  stall(): void {
    this.stalled = true
    for (const e of this.encoders) e.kill('SIGKILL')
  }

  async down(): Promise<void> {
    for (const e of this.encoders) e.kill('SIGKILL')
    for (const s of this.sockets) s.destroy()
    const server = this.server
    this.server = null
    if (server) await new Promise<void>((r) => server.close(() => r()))
  }
}

/** An agent config for tests: real broker, a fresh data directory, short pre- and post-roll, quiet. */
export function testAgentConfig(
  deviceId: string,
  mqttUrl: string,
  extra: Partial<import('../src/config/config.js').AgentConfig> = {},
): import('../src/config/config.js').AgentConfig {
  return {
    deviceId,
    mqtt: { url: mqttUrl },
    controlPlaneUrl: 'http://127.0.0.1:9',
    controlPlaneKey: TEST_KEY,
    topicRoot: 'loa',
    dataDir: tmp(),
    output: 'null',
    relay: { driver: 'simulated' },
    prerollMs: 100,
    postrollMs: 100,
    cacheBudgetMb: 10,
    minFreeMb: 0,
    telemetryIntervalS: 3600,
    timezone: 'Asia/Ho_Chi_Minh',
    logLevel: 'silent',
    // The test machine's clock is the reference: its NTP state must not change what the tests see.
    clock: { sync: 'trusted', jumpThresholdMs: 1000 },
    // A 1 MiB disk reserve, not 16: a test run starts hundreds of agents in the machine's temp directory.
    storage: { dbBudgetMb: 200, playRetentionDays: 30, reserveMb: 1, keepDamaged: 2, diskCheckS: 30 },
    ...extra,
  }
}

/** The test control plane's signing key: agents built by these helpers pin it (docs/security.md). */
export const TEST_SIGNER: Signer = signerFromPem(generateSigningKey().privateKeyPem)
export const TEST_KEY = { keyId: TEST_SIGNER.keyId, publicKey: TEST_SIGNER.publicKey }

/** A command or desired state as the control plane sends it: encoded and signed with the test key. */
export function signed<C extends 'cmd' | 'desired'>(
  channel: C,
  body: BodyFor<C>,
  opts: { from?: string; signer?: Signer; sentAt?: Date } = {},
): MessageFor<C> {
  const msg = encodeMessage(
    channel,
    opts.from ?? 'control-plane',
    body,
    opts.sentAt ? { sentAt: opts.sentAt } : {},
  )
  return signEnvelope(msg, opts.signer ?? TEST_SIGNER)
}

/**
 * A command addressed as the control plane addresses it: to the device or the unit whose `cmd` topic it is sent
 * on (the recipients are part of the signed body; a box refuses a command not addressed to it).
 */
export function addressedTo(topic: string, body: UnaddressedCommandBody): CommandBody {
  const parsed = topicTree('loa').parse(topic)
  if (parsed?.channel !== 'cmd') throw new Error(`not a command topic: ${topic}`)
  const recipients =
    parsed.kind === 'unit'
      ? { devices: [], units: [parsed.unitId] }
      : { devices: [parsed.deviceId], units: [] }
  return { ...body, recipients } as CommandBody
}

/** A real tone of `seconds` served by `server` at `/media/<sha256>`, as the manifest names it. */
export function servedTone(server: MediaServer, seconds: number, freq = 880): MediaRef {
  const t = tone(tmp('loa-served-tone-'), seconds, freq)
  server.files.set(`/media/${t.sha256}`, t.data)
  return {
    sha256: t.sha256,
    size: t.data.length,
    url: `media/${t.sha256}`,
    mime: 'audio/ogg',
    durationMs: seconds * 1000,
  }
}

let alertSeq = 0

/** An audible emergency alert of `items`, started a second ago, expiring in ten minutes. */
export function testAlert(items: MediaRef[], over: Partial<AlertSpec> = {}): AlertSpec {
  const n = `${++alertSeq}-${Date.now().toString(36)}`
  return {
    alertId: `al-${n}`,
    revision: 1,
    ackId: `ack-${n}`,
    title: 'flood warning',
    level: 'emergency',
    priority: Bands.emergency,
    items,
    repeat: 1,
    startsAt: new Date(Date.now() - 1000).toISOString(),
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
    audible: true,
    ...over,
  }
}

/** A started agent (on its own broker) serving the technician page on a real port, for tests over real HTTP. */
export async function startLocalPage(
  deviceId: string,
  passwordHash: string,
  opts: Partial<import('../src/technician/server.js').LocalServerOptions> = {},
): Promise<{
  agent: import('../src/agent.js').Agent
  app: import('fastify').FastifyInstance
  base: string
  close: () => Promise<void>
}> {
  const { Agent } = await import('../src/agent.js')
  const { buildLocalServer } = await import('../src/technician/server.js')
  const broker = await startBroker()
  const agent = new Agent(testAgentConfig(deviceId, broker.url, { technician: { passwordHash } }), silentLog)
  await agent.start()
  const app = await buildLocalServer({ agent, log: silentLog, webDir: tmp(), ...opts })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return {
    agent,
    app,
    base,
    async close() {
      await app.close()
      await agent.stop()
      await broker.close()
    },
  }
}
