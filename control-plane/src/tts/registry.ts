import { LoaError } from '../server/errors.js'
import type { EngineVoice, TtsEngine, VoiceRegion } from './speech.js'
import { normalizeVietnamese } from './vi/normalize.js'

/** A voice as the API lists it: `id` is `engine:voice`, unique across engines. */
export interface Voice {
  id: string
  engine: string
  voice: string
  name: string
  region: VoiceRegion | null
  language: 'vi'
  default: boolean
}

const MAX_TEXT = 4000

/** The configured speech engines and their voices; normalises text and hands it to the right engine. */
export class TtsRegistry {
  readonly defaultVoice: string

  constructor(
    private readonly engines: readonly TtsEngine[],
    defaultVoice?: string,
  ) {
    if (engines.length === 0) throw new Error('at least one speech engine is needed')
    const first = engines[0] as TtsEngine
    this.defaultVoice = defaultVoice ?? `${first.id}:${first.voices[0]?.id ?? 'default'}`
    // A misconfigured default fails at start, not at the first bulletin.
    this.defaultVoice = this.resolve(this.defaultVoice).id
  }

  voices(): Voice[] {
    return this.engines.flatMap((e) =>
      e.voices.map((v) => ({
        id: `${e.id}:${v.id}`,
        engine: e.id,
        voice: v.id,
        name: v.name,
        region: v.region,
        language: 'vi' as const,
        default: `${e.id}:${v.id}` === this.defaultVoice,
      })),
    )
  }

  /** `engine:voice`, or a bare voice id if only one engine has it; the default when absent. */
  resolve(voiceId?: string): { engine: TtsEngine; voice: EngineVoice; id: string } {
    const wanted = voiceId ?? this.defaultVoice
    for (const e of this.engines) {
      for (const v of e.voices) {
        if (wanted === `${e.id}:${v.id}` || wanted === v.id)
          return { engine: e, voice: v, id: `${e.id}:${v.id}` }
      }
    }
    throw new LoaError('LOA_TTS_INVALID', `voice: unknown voice "${wanted}" (GET /api/tts/voices lists them)`)
  }

  /** The text as it will be spoken with this voice (numbers in its region's wording). */
  normalize(text: string, voiceId?: string): string {
    const { voice } = this.resolve(voiceId)
    return normalizeVietnamese(text, { region: voice.region ?? 'north' })
  }

  /** Normalises and synthesises `text` into `audioFile`; `nice` is the media lane's (media/lanes.ts). */
  async speak(text: string, voiceId: string | undefined, audioFile: string, opts: { nice?: number } = {}) {
    const { engine, voice, id } = this.resolve(voiceId)
    const normalizedText = normalizeVietnamese(text, { region: voice.region ?? 'north' })
    if (normalizedText.trim() === '') throw new LoaError('LOA_TTS_INVALID', 'text: nothing to speak')
    if (normalizedText.length > MAX_TEXT) {
      throw new LoaError('LOA_TTS_INVALID', `text: longer than ${MAX_TEXT} characters once normalised`)
    }
    try {
      await engine.synthesize(normalizedText, audioFile, { voice: voice.id, nice: opts.nice })
    } catch (err) {
      if (err instanceof LoaError) throw err
      throw new LoaError(
        'LOA_TTS_FAILED',
        `voice: ${engine.id} could not synthesise (${(err as Error).message})`,
      )
    }
    return { normalizedText, voice: id }
  }
}
