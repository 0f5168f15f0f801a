import { type ChildProcessByStdio, spawn } from 'node:child_process'
import type { ServerResponse } from 'node:http'
import type { Readable, Writable } from 'node:stream'

/**
 * ffmpeg arguments: the browser's MediaRecorder WebM/Opus on stdin, MP3 on stdout, with as little buffering as
 * ffmpeg allows. MP3 because every ffmpeg (the agents') decodes it, it needs no container, and a listener can join
 * mid-stream (the decoder resyncs on the next frame header). Mono 24 kHz: speech on horn loudspeakers.
 */
export function micTranscodeArgs(bitrateKbps: number): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-fflags',
    'nobuffer',
    '-flags',
    'low_delay',
    '-probesize',
    '4096',
    '-analyzeduration',
    '0',
    '-f',
    'matroska',
    '-i',
    'pipe:0',
    '-vn',
    '-ac',
    '1',
    '-ar',
    '24000',
    '-c:a',
    'libmp3lame',
    '-b:a',
    `${bitrateKbps}k`,
    // A live stream: no ID3 tag and no Xing header (nobody can seek back to fill it in).
    '-id3v2_version',
    '0',
    '-write_xing',
    '0',
    '-f',
    'mp3',
    '-flush_packets',
    '1',
    'pipe:1',
  ]
}

export interface MicStreamOptions {
  bitrateKbps: number
  /** A listener further behind than this is dropped (it reconnects and starts at the current position). */
  maxBacklogBytes: number
  maxListeners: number
  ffmpegPath?: string
}

/**
 * One microphone session's audio: one ffmpeg transcoding what the browser sends, and its output fanned out to
 * every HTTP listener. Nothing is kept: a listener hears from the moment it joins.
 */
export class MicStream {
  private readonly ff: ChildProcessByStdio<Writable, Readable, Readable>
  private readonly listeners = new Set<ServerResponse>()
  private stderr = ''
  private exited = false
  private readonly exitWaiters: (() => void)[] = []
  /** Bytes produced so far; 0 until ffmpeg has turned the first input into MP3. */
  bytesOut = 0

  constructor(
    private readonly o: MicStreamOptions,
    private readonly onExit: (problem: string | null) => void,
  ) {
    this.ff = spawn(o.ffmpegPath ?? 'ffmpeg', micTranscodeArgs(o.bitrateKbps), {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.ff.stdout.on('data', (chunk: Buffer) => {
      this.bytesOut += chunk.length
      for (const res of this.listeners) {
        if (res.writableLength > o.maxBacklogBytes) this.drop(res)
        else res.write(chunk)
      }
    })
    this.ff.stderr.on('data', (d: Buffer) => {
      if (this.stderr.length < 4000) this.stderr += d.toString('utf8')
    })
    // EPIPE when ffmpeg has already given up on bad input: its exit says why.
    this.ff.stdin.on('error', () => {})
    const done = (problem: string | null) => {
      if (this.exited) return
      this.exited = true
      for (const res of this.listeners) res.end()
      this.listeners.clear()
      for (const w of this.exitWaiters.splice(0)) w()
      this.onExit(problem)
    }
    this.ff.on('error', (err) => done(`ffmpeg: ${err.message}`))
    this.ff.on('close', (code, signal) => {
      const tail = this.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)
      done(
        code === 0 || signal === 'SIGKILL'
          ? null
          : `ffmpeg exited ${code ?? signal}${tail ? `: ${tail}` : ''}`,
      )
    })
  }

  get pid(): number | undefined {
    return this.ff.pid
  }

  /** Input bytes waiting for ffmpeg to read them. */
  get inputBacklog(): number {
    return this.ff.stdin.writableLength
  }

  get listenerCount(): number {
    return this.listeners.size
  }

  /** Feeds browser audio in; false when ffmpeg is behind (the caller may count that against the sender). */
  write(chunk: Buffer): boolean {
    if (this.exited || this.ff.stdin.destroyed) return false
    return this.ff.stdin.write(chunk)
  }

  /** Adds an HTTP listener (headers already sent); false when the stream is over or full. */
  listen(res: ServerResponse): boolean {
    if (this.exited || this.listeners.size >= this.o.maxListeners) return false
    this.listeners.add(res)
    res.on('close', () => this.listeners.delete(res))
    return true
  }

  private drop(res: ServerResponse): void {
    this.listeners.delete(res)
    res.destroy()
  }

  /** Kills ffmpeg and ends every listener; resolves once the process is gone. */
  close(): Promise<void> {
    if (this.exited) return Promise.resolve()
    const gone = new Promise<void>((r) => this.exitWaiters.push(r))
    this.ff.kill('SIGKILL')
    return gone
  }
}
