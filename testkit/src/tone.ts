import { spawnSync } from 'node:child_process'

export interface ToneOptions {
  /** Sample rate of the generator (ffmpeg's sine default is 44100 Hz). */
  sampleRate?: number
  /** Output options placed before the file, e.g. `['-c:a', 'libopus', '-b:a', '24k']` or `['-ac', '16']`. */
  args?: string[]
  /** Another lavfi source instead of the sine (`hz` is then unused), e.g. `anullsrc=r=8000:cl=mono` for silence. */
  source?: string
}

/**
 * Writes a real audio file made by ffmpeg: a mono sine of `seconds` at `hz` (the container and codec follow the
 * file's extension unless `opts.args` say otherwise). Returns `file`. The one tone generator of every test.
 */
export function makeTone(file: string, seconds: number, hz = 440, opts: ToneOptions = {}): string {
  const rate = opts.sampleRate === undefined ? '' : `:sample_rate=${opts.sampleRate}`
  const input = opts.source
    ? [opts.source, '-t', String(seconds)]
    : [`sine=frequency=${hz}:duration=${seconds}${rate}`]
  const r = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', ...input, ...(opts.args ?? []), file],
    { encoding: 'utf8' },
  )
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`ffmpeg failed making ${file}: ${r.stderr}`)
  return file
}
