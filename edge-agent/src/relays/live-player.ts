import { type ChildProcessByStdio, spawn } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { monotonicMs } from '../clock/clock.js'
import type { AudioOutput } from '../playback/audio-output.js'
import { ffmpegCommand } from '../playback/player.js'

/** Raw PCM between the receiving and the playing ffmpeg: mono 16-bit is plenty for speech and radio. */
const RATE = 44_100
const PCM = ['-f', 's16le', '-ar', String(RATE), '-ac', '1']

type Tx = ChildProcessByStdio<Writable, null, Readable>

export interface LiveTimeouts {
  /** No audio this long after spawning: the attempt failed. */
  connectMs: number
  /** No data this long while connected: the stream dropped (ffmpeg's own timeouts usually notice first). */
  stallMs: number
}

/** ffmpeg input options for a live source: the smallest buffers and probes, and a socket timeout per protocol. */
export function liveInputArgs(url: string, timeoutMs: number): string[] {
  const us = String(timeoutMs * 1000)
  // RTSP's `timeout` is its socket timeout; `rw_timeout` is the generic one of every other URL protocol.
  const timeout = /^rtsps?:/.test(url) ? ['-timeout', us] : ['-rw_timeout', us]
  return [
    '-fflags',
    'nobuffer',
    '-flags',
    'low_delay',
    '-probesize',
    '32768',
    '-analyzeduration',
    '0',
    ...timeout,
    // No `-re`: a live input comes at its own pace, and -re would only add delay.
    '-i',
    url,
  ]
}

/**
 * One connection to a live source: a receiving ffmpeg decodes the stream to PCM on its stdout, so the source can
 * be opened (and its failure noticed) without switching the amplifier on. The audio is dropped until `attach`
 * starts a playing ffmpeg on the configured output; `detach` stops it and keeps the connection (a preemption).
 */
export class LiveConnection {
  private readonly rx: ChildProcessByStdio<null, Readable, Readable>
  private tx: Tx | null = null
  /** Playing ffmpegs stopped on purpose (their exit is not an error). */
  private readonly stopping = new WeakSet<Tx>()
  private stderr = ''
  private lastData = monotonicMs()
  private watchdog: NodeJS.Timeout
  private gotAudio = false
  private closedReason: string | null = null
  private readonly closedWaiters: ((reason: string) => void)[] = []
  /** Resolves when audio first arrives, rejects with the reason if the connection ends before. */
  readonly ready: Promise<void>

  constructor(
    readonly url: string,
    private readonly output: AudioOutput,
    t: LiveTimeouts,
    ffmpegPath = 'ffmpeg',
  ) {
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      ...liveInputArgs(url, Math.min(t.connectMs, t.stallMs)),
      '-vn',
      ...PCM,
      // Each packet reaches the pipe at once rather than in 32 KB chunks (~0.4 s).
      '-flush_packets',
      '1',
      'pipe:1',
    ]
    const [cmd, argv] = ffmpegCommand(ffmpegPath, args)
    this.rx = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    let resolveReady: () => void = () => {}
    let rejectReady: (e: Error) => void = () => {}
    this.ready = new Promise<void>((res, rej) => {
      resolveReady = res
      rejectReady = rej
    })
    // A rejection nobody awaits (closed after ready) must not crash the process.
    this.ready.catch(() => {})
    // Monotonic: a step of the wall clock is neither a stall nor a connect timeout.
    const started = monotonicMs()
    this.rx.stdout.on('data', (chunk: Buffer) => {
      this.lastData = monotonicMs()
      if (!this.gotAudio) {
        this.gotAudio = true
        resolveReady()
      }
      const tx = this.tx
      // Behind the output (a slow sink): drop audio rather than let the delay grow.
      if (tx && !tx.stdin.writableNeedDrain && !tx.stdin.destroyed) tx.stdin.write(chunk)
    })
    this.rx.stderr.on('data', (d: Buffer) => {
      if (this.stderr.length < 4000) this.stderr += d.toString('utf8')
    })
    this.watchdog = setInterval(() => {
      const now = monotonicMs()
      if (!this.gotAudio && now - started > t.connectMs) this.close(`no audio within ${t.connectMs} ms`)
      else if (this.gotAudio && now - this.lastData > t.stallMs) this.close(`no data for ${t.stallMs} ms`)
    }, 250)
    const end = (why: string) => {
      clearInterval(this.watchdog)
      this.stopTx()
      const reason = this.closedReason ?? why
      this.closedReason = reason
      rejectReady(new Error(reason))
      for (const w of this.closedWaiters.splice(0)) w(reason)
    }
    this.rx.on('error', (err) => end(`ffmpeg: ${err.message}`))
    this.rx.on('close', (code, sig) => {
      const tail = this.stderr.trim().split('\n').slice(-2).join(' | ')
      end(`source ended (ffmpeg exited ${code ?? sig}${tail ? `: ${tail}` : ''})`.slice(0, 900))
    })
  }

  get closed(): boolean {
    return this.closedReason !== null
  }

  /** Resolves with the reason once the connection has ended (at once if it has). */
  whenClosed(): Promise<string> {
    if (this.closedReason !== null) return Promise.resolve(this.closedReason)
    return new Promise((r) => this.closedWaiters.push(r))
  }

  /** Starts playing the received audio; resolves with an error when the playing ffmpeg exits by itself. */
  attach(volume: number, label: string, ffmpegPath = 'ffmpeg'): Promise<string | null> {
    this.stopTx()
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-fflags',
      'nobuffer',
      ...PCM,
      '-i',
      'pipe:0',
      '-af',
      `volume=${volume.toFixed(2)}`,
      ...this.output.args(label),
    ]
    const [cmd, argv] = ffmpegCommand(ffmpegPath, args)
    const tx = spawn(cmd, argv, { stdio: ['pipe', 'ignore', 'pipe'] })
    this.tx = tx
    let err = ''
    tx.stderr.on('data', (d: Buffer) => {
      if (err.length < 2000) err += d.toString('utf8')
    })
    tx.stdin.on('error', () => {})
    return new Promise((resolve) => {
      tx.on('error', (e) => resolve(`ffmpeg: ${e.message}`))
      tx.on('close', (code, sig) => {
        if (this.tx === tx) this.tx = null
        resolve(
          this.stopping.has(tx) ? null : `output ffmpeg exited ${code ?? sig}: ${err.trim().slice(-300)}`,
        )
      })
    })
  }

  /** Stops playing; the connection stays open. */
  detach(): void {
    this.stopTx()
  }

  private stopTx(): void {
    const tx = this.tx
    if (!tx) return
    this.tx = null
    this.stopping.add(tx)
    // Ending stdin lets ffmpeg flush and close its output cleanly; SIGKILL if it does not go.
    tx.stdin.end()
    tx.stdin.destroy()
    setTimeout(() => {
      if (tx.exitCode === null && tx.signalCode === null) tx.kill('SIGKILL')
    }, 2000).unref()
  }

  /** Ends the connection (and any play). */
  close(reason: string): void {
    if (this.closedReason === null) this.closedReason = reason
    this.stopTx()
    if (this.rx.exitCode === null && this.rx.signalCode === null) {
      this.rx.kill('SIGTERM')
      setTimeout(() => {
        if (this.rx.exitCode === null && this.rx.signalCode === null) this.rx.kill('SIGKILL')
      }, 2000).unref()
    }
  }
}
