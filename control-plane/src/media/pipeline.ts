import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { MediaCodec } from '../config.js'
import { LoaError } from '../server/errors.js'
import type { Loudness } from './model.js'
import { assertRan, budgetFor, type MediaWork, tooLong } from './probe.js'
import { runTool } from './process.js'

interface LoudnormMeasure {
  input_i: string
  input_tp: string
  input_lra: string
  input_thresh: string
  target_offset: string
}

const TRUE_PEAK = -1.5
const LRA = 11

/** Decoding stops this far past the limit, so "longer than the limit" is seen whatever the frame size. */
const DECODE_MARGIN_S = 1
/** Decoded audio may run this much past the limit (last frame, resampler delay) and still count as within it. */
const DECODE_TOLERANCE_S = 0.5

/** Input options that bound what ffmpeg decodes: never more than the limit and its margin, whatever headers say. */
const boundedInput = (file: string, work: MediaWork) => [
  '-nostdin',
  '-t',
  String(work.limits.maxSeconds + DECODE_MARGIN_S),
  '-i',
  file,
  '-map',
  '0:a:0',
]

/** The last `out_time_us` of ffmpeg's `-progress` output: how much audio it actually decoded. */
function decodedSeconds(progress: string): number {
  const all = [...progress.matchAll(/^out_time_us=(\d+)$/gm)]
  const last = all[all.length - 1]
  return last ? Number(last[1]) / 1e6 : 0
}

/**
 * First EBU R128 pass: measure. loudnorm prints its JSON as the last `{...}` block on stderr. The decode is bounded
 * (boundedInput) and its real length checked, so a file whose header understates its length is refused here,
 * after at most the limit's worth of decoding.
 */
export async function measureLoudness(
  file: string,
  targetI: number,
  work: MediaWork,
): Promise<LoudnormMeasure> {
  const r = await runTool(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostats',
      '-progress',
      'pipe:1',
      ...boundedInput(file, work),
      '-af',
      `loudnorm=I=${targetI}:TP=${TRUE_PEAK}:LRA=${LRA}:print_format=json`,
      '-f',
      'null',
      '-',
    ],
    budgetFor(work),
  )
  assertRan(r, 'measuring its loudness')
  const seconds = decodedSeconds(r.stdout)
  if (seconds > work.limits.maxSeconds + DECODE_TOLERANCE_S) throw tooLong(seconds, work.limits, 'decodes to')
  const start = r.stderr.lastIndexOf('{')
  const end = r.stderr.lastIndexOf('}')
  if (r.code !== 0 || start < 0 || end < start) {
    throw new LoaError('LOA_MEDIA_NOT_AUDIO', 'file: audio could not be decoded for loudness measurement')
  }
  return JSON.parse(r.stderr.slice(start, end + 1)) as LoudnormMeasure
}

/**
 * What the output may weigh: the limit's worth of audio at four times the target bitrate (VBR speech codecs overshoot
 * on tones and noise) plus container overhead. Only a backstop for the disk: decoding is already bounded.
 */
function outputCap(bitrateKbps: number, work: MediaWork): number {
  return Math.ceil(((bitrateKbps * 1000) / 8) * (work.limits.maxSeconds + DECODE_MARGIN_S) * 4) + 1024 * 1024
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
  work: MediaWork,
): Promise<TranscodeResult> {
  const m = await measureLoudness(input, opts.targetI, work)
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
  const maxBytes = outputCap(opts.bitrateKbps, work)
  const r = await runTool(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostats',
      '-y',
      ...boundedInput(input, work),
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
      '-fs',
      String(maxBytes),
      output,
    ],
    budgetFor(work),
  )
  assertRan(r, 'transcoding it')
  // ffmpeg stops quietly at -fs: an output that reached it is cut short, never stored.
  if (r.code === 0 && (await stat(output)).size >= maxBytes) {
    throw new LoaError('LOA_MEDIA_TOO_COSTLY', `file: transcoding it made more than ${maxBytes} bytes`)
  }
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
