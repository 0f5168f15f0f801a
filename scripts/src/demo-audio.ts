import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Makes the demo bulletin locally: Vietnamese speech from espeak-ng when it is installed, otherwise a chime
 * from ffmpeg. Nothing is downloaded.
 */
export async function makeBulletinAudio(path: string, text: string): Promise<'espeak-ng' | 'ffmpeg'> {
  try {
    await run('espeak-ng', ['-v', 'vi', '-s', '150', '-w', path, text])
    return 'espeak-ng'
  } catch {
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=660:duration=4',
      '-af',
      'volume=0.5',
      path,
    ])
    return 'ffmpeg'
  }
}
