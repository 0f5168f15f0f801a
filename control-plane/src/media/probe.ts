import { LoaError } from '../server/errors.js'
import { type ProcessBudget, type RunResult, runTool } from './process.js'

/** What an upload may be, and what one media process may spend (media/config.ts). */
export interface MediaLimits {
  maxSeconds: number
  maxChannels: number
  maxSampleRate: number
  cpuSeconds: number
}

/** One job's media work: its limits, the niceness of its processes (its lane's), its shutdown signal. */
export interface MediaWork {
  limits: MediaLimits
  nice: number
  signal?: AbortSignal
}

export interface ProbeResult {
  durationMs: number
  codec: string
  bitrateKbps: number
  channels: number
  sampleRate: number
}

/** Below this, speech is not intelligible: the file is not what a loudspeaker should play. */
const MIN_SAMPLE_RATE = 8000

/** A process budget for this work; the wall clock is only a backstop (a niced process may wait for the CPU). */
export function budgetFor(work: MediaWork, cpuSeconds = work.limits.cpuSeconds): ProcessBudget {
  return { nice: work.nice, cpuSeconds, wallSeconds: Math.max(600, cpuSeconds * 3), signal: work.signal }
}

/** Reading headers is cheap: ffprobe gets a tenth of the budget. */
const probeBudget = (work: MediaWork) => budgetFor(work, Math.max(5, work.limits.cpuSeconds / 10))

interface ProbeJson {
  streams?: {
    codec_type?: string
    codec_name?: string
    duration?: string
    bit_rate?: string
    channels?: number
    sample_rate?: string
  }[]
  format?: { duration?: string; bit_rate?: string }
}

const notAudio = (problem: string) => new LoaError('LOA_MEDIA_NOT_AUDIO', `file: ${problem}`)

/**
 * ffprobe of the first audio stream (the one the pipeline decodes: `-map 0:a:0`). Throws LOA_MEDIA_NOT_AUDIO when
 * there is no audio stream or no duration.
 */
export async function probeAudio(file: string, work: MediaWork): Promise<ProbeResult> {
  const r = await runTool(
    'ffprobe',
    ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file],
    probeBudget(work),
  )
  assertRan(r, 'reading its headers')
  if (r.code !== 0) throw notAudio('not a readable audio file')
  let info: ProbeJson
  try {
    info = JSON.parse(r.stdout) as ProbeJson
  } catch {
    throw notAudio('not a readable audio file')
  }
  const audio = info.streams?.find((s) => s.codec_type === 'audio')
  if (!audio) throw notAudio('has no audio stream')
  const seconds = Number(audio.duration ?? info.format?.duration ?? 0)
  if (!Number.isFinite(seconds) || seconds <= 0) throw notAudio('audio has no duration')
  const bitRate = Number(audio.bit_rate ?? info.format?.bit_rate ?? 0)
  return {
    durationMs: Math.round(seconds * 1000),
    codec: audio.codec_name ?? 'unknown',
    bitrateKbps: Number.isFinite(bitRate) ? Math.round(bitRate / 1000) : 0,
    channels: Number(audio.channels ?? 0),
    sampleRate: Number(audio.sample_rate ?? 0),
  }
}

export const tooLong = (seconds: number, limits: MediaLimits, how: 'declares' | 'decodes to') =>
  new LoaError(
    'LOA_MEDIA_TOO_LONG',
    `file: the audio ${how} ${how === 'declares' ? '' : 'more than '}${Math.round(seconds)} s; ` +
      `at most ${limits.maxSeconds} s is accepted`,
  )

/** A killed process: over its budget (the file's fault), or stopped because the control plane is. */
export function assertRan(r: RunResult, doing: string): void {
  if (r.killed === 'aborted') throw new LoaError('LOA_UNAVAILABLE', 'media: the control plane is stopping')
  if (r.killed) {
    throw new LoaError('LOA_MEDIA_TOO_COSTLY', `file: ${doing} took more CPU than a media file may use`)
  }
}

/**
 * What the file says about itself, checked before any decoding. Headers can lie (a FLAC may declare one second
 * and hold an hour): the decoding passes are bounded as well (media/pipeline.ts).
 */
export function assertWithinLimits(p: ProbeResult, limits: MediaLimits): void {
  if (p.durationMs > limits.maxSeconds * 1000) throw tooLong(p.durationMs / 1000, limits, 'declares')
  if (!Number.isInteger(p.channels) || p.channels < 1 || p.channels > limits.maxChannels) {
    throw new LoaError(
      'LOA_MEDIA_UNSUPPORTED',
      `file: ${p.channels || 'unknown'} audio channels; 1 to ${limits.maxChannels} are accepted`,
    )
  }
  if (!(p.sampleRate >= MIN_SAMPLE_RATE && p.sampleRate <= limits.maxSampleRate)) {
    throw new LoaError(
      'LOA_MEDIA_UNSUPPORTED',
      `file: sample rate ${p.sampleRate || 'unknown'} Hz; ${MIN_SAMPLE_RATE} to ${limits.maxSampleRate} Hz ` +
        'is accepted',
    )
  }
}
