import type { Actor } from '../access/actor.js'
import type { Services } from '../context.js'
import { ownerOf } from '../media/lanes.js'
import { LoaError } from '../server/errors.js'
import { speakToMedia } from '../tts/speech-media.js'

interface SpokenBody {
  text?: string
  voice?: string
  bulletinId?: string
  mediaSha256s?: string[]
}

const bad = (message: string) => new LoaError('LOA_ALERT_INVALID', message)

/**
 * An alert body that says what to play as `text`: spoken (and transcoded) in the alert media lane, so ordinary
 * uploads and speech never make it wait, and handed on naming the media it became. `precheck` runs first: what is
 * cheap to refuse is refused before the speech is made. A body without `text` is handed on as it is.
 */
export async function speakAlertText<B extends SpokenBody>(
  s: Pick<Services, 'config' | 'lanes' | 'repos' | 'tts'>,
  actor: Actor,
  body: B,
  precheck: () => unknown,
): Promise<B> {
  const { text, voice, ...rest } = body
  if (text === undefined) {
    if (voice !== undefined) throw bad('voice: only with text')
    return body
  }
  if (body.bulletinId !== undefined || body.mediaSha256s !== undefined) {
    throw bad('text: give one of bulletinId, mediaSha256s or text')
  }
  await precheck()
  const { media } = await speakToMedia(s, text, voice, { lane: 'alert', owner: ownerOf(actor) }, actor)
  return { ...rest, mediaSha256s: [media.sha256] } as B
}
