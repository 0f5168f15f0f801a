import { runTool } from '../media/process.js'

/**
 * Text-to-speech behind a small seam: espeak-ng (offline, has Vietnamese) by default, domestic cloud engines through
 * tts/cloud.ts. An engine writes an audio file (WAV, MP3, …) that the media pipeline then probes and normalises.
 */
export interface SpeechEngine {
  readonly name: string
  synthesize(text: string, audioFile: string, opts?: SynthesisOptions): Promise<void>
}

export interface SynthesisOptions {
  voice?: string
  /** Niceness of a local engine's process: its media lane's (media/lanes.ts). */
  nice?: number
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

  async synthesize(text: string, audioFile: string, opts: SynthesisOptions = {}): Promise<void> {
    // Text goes through stdin, never the command line: it cannot be taken for an option.
    const seconds = this.timeoutMs / 1000
    const r = await runTool(
      'espeak-ng',
      ['-v', opts.voice ?? this.voice, '-s', String(this.wordsPerMinute), '-w', audioFile, '--stdin'],
      { nice: opts.nice ?? 0, cpuSeconds: seconds, wallSeconds: seconds },
      text.slice(0, MAX_TEXT),
    )
    if (r.killed) throw new Error(`espeak-ng took longer than ${seconds} s`)
    if (r.code !== 0) throw new Error(`espeak-ng exited with ${r.code}: ${r.stderr.slice(-2000).trim()}`)
  }
}
