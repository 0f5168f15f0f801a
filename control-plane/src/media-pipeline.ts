import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { MediaCodec } from './config.js'
import type { Loudness } from './domain.js'
import { LoaError } from './errors.js'

interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], timeoutMs = 10 * 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let errBytes = 0
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => {
      // ffmpeg can be chatty; the JSON we need is at the end, so keep a bounded tail.
      err.push(d)
      errBytes += d.length
      while (errBytes > 1_000_000 && err.length > 1) errBytes -= (err.shift() as Buffer).length
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      })
    })
  })
}

export interface ProbeResult {
  durationMs: number
  codec: string
  bitrateKbps: number
}

/** ffprobe; throws LOA_MEDIA_NOT_AUDIO when there is no audio stream or no duration. */
export async function probeAudio(file: string): Promise<ProbeResult> {
  const r = await run('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    file,
  ])
  if (r.code !== 0) throw new LoaError('LOA_MEDIA_NOT_AUDIO', 'file: not a readable audio file')
  let info: {
    streams?: { codec_type?: string; codec_name?: string; duration?: string; bit_rate?: string }[]
    format?: { duration?: string; bit_rate?: string }
  }
  try {
    info = JSON.parse(r.stdout)
  } catch {
    throw new LoaError('LOA_MEDIA_NOT_AUDIO', 'file: not a readable audio file')
  }
  const audio = info.streams?.find((s) => s.codec_type === 'audio')
  if (!audio) throw new LoaError('LOA_MEDIA_NOT_AUDIO', 'file: has no audio stream')
  const seconds = Number(audio.duration ?? info.format?.duration ?? 0)
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new LoaError('LOA_MEDIA_NOT_AUDIO', 'file: audio has no duration')
  const bitRate = Number(audio.bit_rate ?? info.format?.bit_rate ?? 0)
  return {
    durationMs: Math.round(seconds * 1000),
    codec: audio.codec_name ?? 'unknown',
    bitrateKbps: Number.isFinite(bitRate) ? Math.round(bitRate / 1000) : 0,
  }
}

interface LoudnormMeasure {
  input_i: string
  input_tp: string
  input_lra: string
  input_thresh: string
  target_offset: string
}

const TRUE_PEAK = -1.5
const LRA = 11

/** First EBU R128 pass: measure. loudnorm prints its JSON as the last `{...}` block on stderr. */
export async function measureLoudness(file: string, targetI: number): Promise<LoudnormMeasure> {
  const r = await run('ffmpeg', [
    '-hide_banner',
    '-nostats',
    '-i',
    file,
    '-af',
    `loudnorm=I=${targetI}:TP=${TRUE_PEAK}:LRA=${LRA}:print_format=json`,
    '-f',
    'null',
    '-',
  ])
  const start = r.stderr.lastIndexOf('{')
  const end = r.stderr.lastIndexOf('}')
  if (r.code !== 0 || start < 0 || end < start) {
    throw new LoaError('LOA_MEDIA_NOT_AUDIO', 'file: audio could not be decoded for loudness measurement')
  }
  return JSON.parse(r.stderr.slice(start, end + 1)) as LoudnormMeasure
}

const CODECS: Record<MediaCodec, { args: (kbps: number) => string[]; mime: string; name: string }> = {
  opus: {
    name: 'opus',
    mime: 'audio/ogg',
    args: (kbps) => ['-c:a', 'libopus', '-application', 'voip', '-b:a', `${kbps}k`, '-f', 'ogg'],
  },
  mp3: {
    name: 'mp3',
    mime: 'audio/mpeg',
    args: (kbps) => ['-c:a', 'libmp3lame', '-b:a', `${kbps}k`, '-f', 'mp3'],
  },
}

export interface TranscodeResult {
  loudness: Loudness
  mime: string
  codec: string
}

/**
 * Second pass: normalise with the measured values (linear when possible) and transcode to speech-grade mono 48 kHz.
 * Bit-exact flags keep the output deterministic, so the same source always yields the same content address.
 */
export async function normaliseAndTranscode(
  input: string,
  output: string,
  opts: { codec: MediaCodec; bitrateKbps: number; targetI: number },
): Promise<TranscodeResult> {
  const m = await measureLoudness(input, opts.targetI)
  const num = (s: string) => Number(s)
  const measured = [m.input_i, m.input_tp, m.input_lra, m.input_thresh, m.target_offset].map(num)
  // Digital silence measures -inf: there is nothing to normalise, so transcode it as is.
  const finite = measured.every(Number.isFinite)
  const filter = finite
    ? `loudnorm=I=${opts.targetI}:TP=${TRUE_PEAK}:LRA=${LRA}:measured_I=${m.input_i}:measured_TP=${m.input_tp}` +
      `:measured_LRA=${m.input_lra}:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true` +
      ':print_format=none'
    : 'anull'
  const codec = CODECS[opts.codec]
  const r = await run('ffmpeg', [
    '-hide_banner',
    '-nostats',
    '-y',
    '-i',
    input,
    '-vn',
    '-map_metadata',
    '-1',
    '-af',
    filter,
    '-ac',
    '1',
    '-ar',
    '48000',
    '-fflags',
    '+bitexact',
    '-flags:a',
    '+bitexact',
    ...codec.args(opts.bitrateKbps),
    output,
  ])
  if (r.code !== 0) {
    throw new LoaError(
      'LOA_MEDIA_TRANSCODE_FAILED',
      `file: transcoding failed (${r.stderr.slice(-300).trim()})`,
    )
  }
  const clean = (n: number) => (Number.isFinite(n) ? n : -99)
  return {
    loudness: {
      inputI: clean(measured[0] as number),
      inputTp: clean(measured[1] as number),
      inputLra: clean(measured[2] as number),
      targetI: opts.targetI,
    },
    mime: codec.mime,
    codec: codec.name,
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** File names are metadata only: strip control characters and path separators, cap the length. */
export function sanitiseFileName(name: string | undefined): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const cleaned = (name ?? '').replace(/[\u0000-\u001f\u007f-\u009f/\\]/g, '').trim()
  return cleaned.slice(0, 200) || 'upload'
}

/** ffmpeg is CPU-bound: at most this many uploads transcode at once, the rest wait their turn. */
const MAX_TRANSCODES = 2
let activeTranscodes = 0
const waiting: (() => void)[] = []

export async function withTranscodeSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (activeTranscodes >= MAX_TRANSCODES) await new Promise<void>((resolve) => waiting.push(resolve))
  activeTranscodes++
  try {
    return await fn()
  } finally {
    activeTranscodes--
    waiting.shift()?.()
  }
}
