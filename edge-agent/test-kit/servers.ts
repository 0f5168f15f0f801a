// Test-only servers: a real MQTT broker, an HTTP media server, a stand-in control plane, a live audio source.
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServer as createNetServer, type Socket } from 'node:net'
import { encodeMessage, topicTree } from '@loa/shared'
import { Aedes } from 'aedes'
import mqtt, { type MqttClient } from 'mqtt'

/** A fresh aedes broker (nothing retained) on `port`, 0 for any free one: a restart is startBroker(old port). */
export async function startBroker(
  port = 0,
): Promise<{ url: string; broker: Aedes; close: () => Promise<void> }> {
  const broker = await Aedes.createBroker()
  const server = createNetServer(broker.handle)
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  let closing: Promise<void> | undefined
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    broker,
    // Idempotent: a test that closes a broker mid-way may close it again in its clean-up.
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()))
        for (const s of sockets) s.destroy()
      })),
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
