import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { type Clock, systemClock } from '../clock/clock.js'
import type { AudioOutput } from './audio-output.js'
import { sleep } from './sleep.js'

const DEFAULT_MAX_MS = 4 * 3600_000

export interface CardOptions {
  /** Output gain (0–1) multiplied into every play: the zone's volume where its card has no mixer control. */
  gain?: () => number
  /** The card was busy or missing; `retrying` is false on the last attempt. */
  onCardFault?: (kind: 'busy' | 'missing', error: string, retrying: boolean) => void
  /** Waits between attempts while the card is busy or missing. */
  retryMs?: number[]
}

/** ffmpeg's ALSA errors: `cannot open audio device X (Device or resource busy)` / `(No such device)`. */
export function cardFault(error: string): 'busy' | 'missing' | null {
  if (!/cannot open audio device/i.test(error)) return null
  return /busy/i.test(error) ? 'busy' : 'missing'
}

export interface PlayResult {
  /** By the agent's clock (clock/clock.ts): instants only. */
  startedAt: Date
  endedAt: Date
  /** Monotonic, whole milliseconds: never negative, whatever the wall clock did meanwhile. */
  durationMs: number
  /** 'ok' when ffmpeg exited 0, 'interrupted' when aborted, 'failed' otherwise. */
  outcome: 'ok' | 'interrupted' | 'failed'
  error?: string
}

/**
 * util-linux's setpriv (Essential on Debian and Raspberry Pi OS) asks the kernel to send ffmpeg SIGTERM when the
 * agent dies, even by SIGKILL: otherwise an orphaned ffmpeg keeps playing (and holds the ALSA card) after a crash.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null

/** The command line that runs ffmpeg so that it cannot outlive the agent. */
export function ffmpegCommand(ffmpegPath: string, args: string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ['--pdeathsig', 'TERM', '--', ffmpegPath, ...args]] : [ffmpegPath, args]
}

/**
 * Plays one file through ffmpeg in real time (`-re`), so the promise settles when the audio has been fully
 * written to the output. ffmpeg is spawned directly: fluent-ffmpeg is deprecated and read-only upstream since
 * May 2025, and we only need one command line.
 */
export class Player {
  constructor(
    private readonly output: AudioOutput,
    private readonly ffmpegPath = 'ffmpeg',
    private readonly card: CardOptions = {},
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Plays, retrying with backoff (by default 0.5 s, 1 s, 2 s) while the sound card is busy or missing: another
   * process holding it, or a USB card re-enumerating. Each such failure is reported through `onCardFault`.
   */
  async play(
    file: string,
    volume: number,
    label: string,
    signal?: AbortSignal,
    maxMs = DEFAULT_MAX_MS,
    offsetMs = 0,
  ): Promise<PlayResult> {
    const gain = this.card.gain?.() ?? 1
    const retries = this.card.retryMs ?? [500, 1000, 2000]
    for (let attempt = 0; ; attempt++) {
      const r = await this.playOnce(file, volume * gain, label, signal, maxMs, offsetMs)
      const fault = r.outcome === 'failed' ? cardFault(r.error ?? '') : null
      const wait = retries[attempt]
      if (!fault) return r
      this.card.onCardFault?.(fault, r.error ?? '', wait !== undefined && !signal?.aborted)
      if (wait === undefined || signal?.aborted) return r
      await sleep(wait, signal)
    }
  }

  /**
   * `maxMs` bounds a play whose output blocks (a wedged ALSA device would otherwise hold the amplifier on forever):
   * past it ffmpeg is killed and the item reported failed. `offsetMs` starts that far into the file.
   */
  private playOnce(
    file: string,
    volume: number,
    label: string,
    signal?: AbortSignal,
    maxMs = DEFAULT_MAX_MS,
    offsetMs = 0,
  ): Promise<PlayResult> {
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      // Resuming after a preemption: seek on the input, so -re paces from there.
      ...(offsetMs > 0 ? ['-ss', (offsetMs / 1000).toFixed(3)] : []),
      '-re',
      '-i',
      file,
      '-vn',
      '-af',
      `volume=${volume.toFixed(2)}`,
      ...this.output.args(label),
    ]
    const startedAt = new Date(this.clock.now())
    const startMono = this.clock.mono()
    const times = () => ({
      startedAt,
      endedAt: new Date(this.clock.now()),
      durationMs: Math.max(0, Math.round(this.clock.mono() - startMono)),
    })
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve({ ...times(), outcome: 'interrupted' })
        return
      }
      const [command, argv] = ffmpegCommand(this.ffmpegPath, args)
      const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      let aborted = false
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < 4000) stderr += d.toString('utf8')
      })
      let timedOut = false
      let killTimer: NodeJS.Timeout | null = null
      // SIGTERM first so ffmpeg closes its output cleanly; SIGKILL if it does not go within 2 s.
      const stop = () => {
        child.kill('SIGTERM')
        killTimer ??= setTimeout(() => child.kill('SIGKILL'), 2000)
      }
      const onAbort = () => {
        aborted = true
        stop()
      }
      const limit = setTimeout(() => {
        timedOut = true
        stop()
      }, maxMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      const finish = (r: PlayResult) => {
        signal?.removeEventListener('abort', onAbort)
        clearTimeout(limit)
        if (killTimer) clearTimeout(killTimer)
        resolve(r)
      }
      child.on('error', (err) => finish({ ...times(), outcome: 'failed', error: err.message }))
      child.on('close', (code, sig) => {
        const t = times()
        if (aborted) finish({ ...t, outcome: 'interrupted' })
        else if (timedOut) {
          finish({
            ...t,
            outcome: 'failed',
            error: `ffmpeg still running after ${maxMs} ms: killed`,
          })
        } else if (code === 0) finish({ ...t, outcome: 'ok' })
        else {
          const tail = stderr.trim().split('\n').slice(-3).join(' | ')
          finish({
            ...t,
            outcome: 'failed',
            error: `ffmpeg exited ${code ?? sig}: ${tail}`.slice(0, 900),
          })
        }
      })
    })
  }
}
