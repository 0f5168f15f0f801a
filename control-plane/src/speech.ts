import { spawn } from 'node:child_process'

/**
 * Text-to-speech behind a small seam: espeak-ng (offline, has Vietnamese) now; the console issue adds natural
 * regional voices from domestic platforms. An engine writes a WAV file the media pipeline then normalises.
 */
export interface SpeechEngine {
  readonly name: string
  synthesize(text: string, wavFile: string, opts?: { voice?: string }): Promise<void>
}

const MAX_TEXT = 4000

export class EspeakEngine implements SpeechEngine {
  readonly name = 'espeak-ng'

  constructor(
    private readonly voice = 'vi',
    private readonly wordsPerMinute = 150,
    private readonly timeoutMs = 60_000,
  ) {}

  synthesize(text: string, wavFile: string, opts: { voice?: string } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      // Text goes through stdin, never the command line: it cannot be taken for an option.
      const child = spawn(
        'espeak-ng',
        ['-v', opts.voice ?? this.voice, '-s', String(this.wordsPerMinute), '-w', wavFile, '--stdin'],
        { stdio: ['pipe', 'ignore', 'pipe'] },
      )
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString('utf8')).slice(-2000)
      })
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs)
      child.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      child.on('close', (code) => {
        clearTimeout(timer)
        if (code === 0) resolve()
        else reject(new Error(`espeak-ng exited with ${code}: ${stderr.trim()}`))
      })
      child.stdin.end(text.slice(0, MAX_TEXT))
    })
  }
}
