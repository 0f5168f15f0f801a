import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Writes a real WAV made by ffmpeg: a tone of `seconds` at `hz`. */
export async function makeTone(path: string, seconds: number, hz = 440): Promise<void> {
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${hz}:duration=${seconds}:sample_rate=44100`,
    '-ac',
    '1',
    path,
  ])
}
