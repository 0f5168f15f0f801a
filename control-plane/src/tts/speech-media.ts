import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Actor } from '../access/actor.js'
import { mediaOwnerOf } from '../access/scope-refs.js'
import type { Services } from '../context.js'
import { importAudioFile } from '../media/import.js'
import type { MediaJob } from '../media/lanes.js'

/** A temp file for an engine to write into, removed afterwards whatever happened. */
export async function withTempFile<T>(
  s: Pick<Services, 'config'>,
  fn: (file: string) => Promise<T>,
): Promise<T> {
  const dir = path.join(s.config.dataDir, 'tmp')
  await fs.mkdir(dir, { recursive: true })
  const file = path.join(dir, `${randomUUID()}.tts`)
  try {
    return await fn(file)
  } finally {
    await fs.rm(file, { force: true })
  }
}

/**
 * Speaks `text` and puts the audio through the media pipeline (same text and voice: same media), synthesis and
 * transcode in one slot of the job's media lane; the media then belong to `actor`'s unit too (access/scope-refs.ts).
 */
export function speakToMedia(
  s: Pick<Services, 'config' | 'lanes' | 'repos' | 'tts'>,
  text: string,
  voice: string | undefined,
  job: MediaJob,
  actor: Actor,
) {
  return s.lanes.run(job, (slot) =>
    withTempFile(s, async (file) => {
      const spoken = await s.tts.speak(text, voice, file, { nice: slot.nice })
      const owner = await mediaOwnerOf(s, actor)
      return { ...spoken, media: await importAudioFile(s, file, `${spoken.voice}.tts`, slot, owner) }
    }),
  )
}
