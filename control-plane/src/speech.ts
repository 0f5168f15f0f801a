import { spawn } from 'node:child_process'

/**
 * Text-to-speech behind a small seam: espeak-ng (offline, has Vietnamese) by default, domestic cloud engines through
 * tts-cloud.ts. An engine writes an audio file (WAV, MP3, …) that the media pipeline then probes and normalises.
 */
export interface SpeechEngine {
  readonly name: string
  synthesize(text: string, audioFile: string, opts?: { voice?: string }): Promise<void>
}

export type VoiceRegion = 'north' | 'central' | 'south'

/** A voice of one engine; `id` is the engine's own name for it. */
export interface EngineVoice {
  id: string
  name: string
  region: VoiceRegion | null
}

/** A speech engine the console can offer: an id and its voices (docs/tts.md). */
export interface TtsEngine extends SpeechEngine {
  readonly id: string
  readonly voices: readonly EngineVoice[]
}

/** espeak-ng's three Vietnamese voices (`espeak-ng --voices=vi`). */
export const ESPEAK_VOICES: readonly EngineVoice[] = [
  { id: 'vi', name: 'Miền Bắc / Northern', region: 'north' },
  { id: 'vi-vn-x-central', name: 'Miền Trung / Central', region: 'central' },
  { id: 'vi-vn-x-south', name: 'Miền Nam / Southern', region: 'south' },
]

const MAX_TEXT = 4000

export class EspeakEngine implements TtsEngine {
  readonly name = 'espeak-ng'
  readonly id = 'espeak-ng'
  readonly voices = ESPEAK_VOICES

  constructor(
    private readonly voice = 'vi',
    private readonly wordsPerMinute = 150,
    private readonly timeoutMs = 60_000,
  ) {}

  synthesize(text: string, audioFile: string, opts: { voice?: string } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      // Text goes through stdin, never the command line: it cannot be taken for an option.
      const child = spawn(
        'espeak-ng',
        ['-v', opts.voice ?? this.voice, '-s', String(this.wordsPerMinute), '-w', audioFile, '--stdin'],
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
