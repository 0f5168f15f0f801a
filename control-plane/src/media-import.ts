import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Services } from './context.js'
import type { Media } from './domain.js'
import { normaliseAndTranscode, probeAudio, sha256File, withTranscodeSlot } from './media-pipeline.js'

/**
 * Puts a local audio file (synthesised speech, a CAP resource) through the same pipeline as an upload: probe,
 * loudness normalisation, speech-grade Opus, content address. The same source gives back the same media. `owner`
 * is the unit that brought it in (docs/users-and-roles.md, "Scope"); null, the default: the whole province (CAP).
 */
export async function importAudioFile(
  s: Services,
  source: string,
  originalName: string,
  owner: string | null = null,
): Promise<Media> {
  const sourceSha = await sha256File(source)
  const media =
    (await s.repos.media.getBySource(sourceSha)) ?? (await transcodeNew(s, source, sourceSha, originalName))
  await s.repos.media.addOwner(media.sha256, owner)
  return media
}

async function transcodeNew(s: Services, source: string, sourceSha: string, originalName: string) {
  const tmp = path.join(s.config.dataDir, 'tmp')
  await fs.mkdir(tmp, { recursive: true })
  const output = path.join(tmp, `${randomUUID()}.out`)
  try {
    return (await transcodeAndStore(s, source, sourceSha, output, originalName)).media
  } finally {
    await fs.rm(output, { force: true })
  }
}

/**
 * The pipeline's core, shared with uploads: loudness-normalise and transcode `source` into `output` (one transcode
 * slot), name it by its sha256, move it into the media directory and record it with the source's hash.
 */
export async function transcodeAndStore(
  s: Services,
  source: string,
  sourceSha: string,
  output: string,
  originalName: string,
): Promise<{ media: Media; existed: boolean }> {
  const { t, out } = await withTranscodeSlot(async () => {
    await probeAudio(source)
    const t = await normaliseAndTranscode(source, output, {
      codec: s.config.mediaCodec,
      bitrateKbps: s.config.mediaBitrateKbps,
      targetI: s.config.loudnessLufs,
    })
    return { t, out: await probeAudio(output) }
  })
  const sha256 = await sha256File(output)
  const size = (await fs.stat(output)).size
  const dir = path.join(s.config.dataDir, 'media')
  await fs.mkdir(dir, { recursive: true })
  await fs.rename(output, path.join(dir, sha256))
  return await s.repos.media.insert(
    {
      sha256,
      size,
      durationMs: out.durationMs,
      mime: t.mime,
      codec: t.codec,
      bitrateKbps: s.config.mediaBitrateKbps,
      loudness: t.loudness,
      originalName,
      createdAt: new Date().toISOString(),
    },
    sourceSha,
  )
}
