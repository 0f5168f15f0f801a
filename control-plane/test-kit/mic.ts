import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { makeTone, waitFor } from '@loa/testkit'
import WebSocket from 'ws'

/** Test helpers for microphone sessions: a real WebSocket client, real HTTP listeners, real ffmpeg files. */

export interface MicMessage {
  type: string
  code?: string
  message?: string
  reason?: string
  liveId?: string
  sessionId?: string
  targetCount?: number
}

export interface MicClient {
  ws: WebSocket
  messages: MicMessage[]
  /** HTTP status when the handshake was refused. */
  refusedStatus: number | null
  closed: boolean
  next(type: string, timeoutMs?: number): Promise<MicMessage>
  sendAudio(chunk: Buffer): void
  close(): void
}

/** Opens `/api/live-mic` with these headers; resolves once open (or refused). */
export async function openMic(httpUrl: string, headers: Record<string, string>): Promise<MicClient> {
  const ws = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/api/live-mic`, { headers })
  const c: MicClient = {
    ws,
    messages: [],
    refusedStatus: null,
    closed: false,
    next: (type, timeoutMs = 15_000) =>
      waitFor(() => c.messages.find((m) => m.type === type), timeoutMs, `mic message "${type}"`),
    sendAudio: (chunk) => ws.send(chunk, { binary: true }),
    close: () => ws.close(),
  }
  ws.on('message', (data, isBinary) => {
    if (!isBinary) c.messages.push(JSON.parse(data.toString()) as MicMessage)
  })
  ws.on('close', () => {
    c.closed = true
  })
  ws.on('error', () => {})
  await new Promise<void>((resolve) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (req, res) => {
      c.refusedStatus = res.statusCode ?? 0
      req.destroy()
      c.closed = true
      resolve()
    })
    ws.once('error', () => resolve())
  })
  return c
}

/**
 * WebM/Opus as MediaRecorder makes it, from ffmpeg's generators: a steady tone, or `beeps` (0.3 s of tone at every
 * whole second from 1 s on, silence between). CBR, so a byte offset is proportional to a time.
 */
export function makeWebm(dir: string, name: string, opts: { seconds: number; beeps?: boolean }): string {
  const beeps = `aevalsrc='if(gte(t,1)*lt(mod(t,1),0.3),0.5*sin(2*PI*440*t),0)':s=48000:d=${opts.seconds}`
  return makeTone(path.join(dir, name), opts.seconds, 440, {
    sampleRate: 48000,
    ...(opts.beeps ? { source: beeps } : {}),
    args: ['-ac', '1', '-c:a', 'libopus', '-b:a', '32k', '-vbr', 'off', '-f', 'webm'],
  })
}

/** Sends a file in `chunkBytes` pieces every `everyMs` (a MediaRecorder with a timeslice); resolves when done. */
export async function paceFile(
  c: MicClient,
  file: string,
  chunkBytes: number,
  everyMs: number,
  onChunk?: (offset: number) => void,
): Promise<void> {
  const data = fs.readFileSync(file)
  for (let off = 0; off < data.length && !c.closed; off += chunkBytes) {
    onChunk?.(off)
    c.sendAudio(data.subarray(off, off + chunkBytes))
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

export interface Listener {
  status: number
  chunks: { at: number; data: Buffer }[]
  ended: boolean
  bytes(): Buffer
  close(): void
}

/** A real HTTP GET that keeps what arrives (with arrival times) until the server ends it. */
export function listen(url: string): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const l: Listener = {
        status: res.statusCode ?? 0,
        chunks: [],
        ended: false,
        bytes: () => Buffer.concat(l.chunks.map((c) => c.data)),
        close: () => req.destroy(),
      }
      res.on('data', (d: Buffer) => l.chunks.push({ at: Date.now(), data: d }))
      const end = () => {
        l.ended = true
      }
      res.on('end', end)
      res.on('close', end)
      res.on('error', end)
      resolve(l)
    })
    req.on('error', reject)
  })
}

/** MPEG audio frame headers (11 sync bits, a valid layer, bitrate and rate index) in a buffer. */
export function countMp3Frames(b: Buffer): number {
  let n = 0
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] !== 0xff || ((b[i + 1] as number) & 0xe0) !== 0xe0) continue
    const layer = ((b[i + 1] as number) >> 1) & 3
    const bitrate = (b[i + 2] as number) >> 4
    const rate = ((b[i + 2] as number) >> 2) & 3
    if (layer === 1 && bitrate !== 0 && bitrate !== 15 && rate !== 3) n++
  }
  return n
}

/** ffmpeg children of this process (the session transcoders when the control plane runs in-process). */
export function ffmpegChildren(): number {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), 'ffmpeg'])
      .toString()
      .trim()
      .split('\n').length
  } catch {
    return 0 // pgrep exits 1 when nothing matches
  }
}
