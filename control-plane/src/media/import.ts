import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Services } from '../context.js'
import type { LaneSlot, MediaLane } from './lanes.js'
import type { Media } from './model.js'
import { normaliseAndTranscode, sha256File } from './pipeline.js'
import { assertWithinLimits, type MediaLimits, type MediaWork, probeAudio } from './probe.js'

/** The configured limits (media/config.ts); alert audio is also held to the alert lane's shorter length. */
export function mediaLimits(s: Pick<Services, 'config'>, lane: MediaLane = 'ordinary'): MediaLimits {
  const c = s.config
  return {
    maxSeconds: lane === 'alert' ? Math.min(c.maxMediaSeconds, c.maxAlertMediaSeconds) : c.maxMediaSeconds,
    maxChannels: c.maxMediaChannels,
    maxSampleRate: c.maxMediaSampleRate,
    cpuSeconds: c.mediaCpuSeconds,
  }
}

const workOf = (s: Pick<Services, 'config'>, slot: LaneSlot): MediaWork => ({
  limits: mediaLimits(s, slot.lane),
  nice: slot.nice,
  signal: slot.signal,
})

/**
 * Puts a local audio file (synthesised speech, a CAP resource) through the same pipeline as an upload: probe,
 * loudness normalisation, speech-grade Opus, content address. The same source gives back the same media. The
 * caller holds a media lane slot (media/lanes.ts) for the whole job. `owner` is the unit that brought it in
 * (docs/users-and-roles.md, "Scope"); null, the default: the whole province (CAP).
 */
export async function importAudioFile(
  s: Pick<Services, 'config' | 'repos'>,
  source: string,
  originalName: string,
  slot: LaneSlot,
  owner: string | null = null,
): Promise<Media> {
  const sourceSha = await sha256File(source)
  const media =
    (await s.repos.media.getBySource(sourceSha)) ??
    (await transcodeNew(s, source, sourceSha, originalName, slot))
  await s.repos.media.addOwner(media.sha256, owner)
  return media
}

async function transcodeNew(
  s: Pick<Services, 'config' | 'repos'>,
  source: string,
  sourceSha: string,
  originalName: string,
  slot: LaneSlot,
) {
  const tmp = path.join(s.config.dataDir, 'tmp')
  await fs.mkdir(tmp, { recursive: true })
  const output = path.join(tmp, `${randomUUID()}.out`)
  try {
    return (await transcodeAndStore(s, source, sourceSha, output, originalName, slot)).media
  } finally {
    await fs.rm(output, { force: true })
  }
}

/**
 * The pipeline's core, shared with uploads: check `source` against the limits, loudness-normalise and transcode it
 * into `output` (bounded decoding), name it by its sha256, move it into the media directory and record it with the
 * source's hash. Nothing is stored unless every step passed.
 */
export async function transcodeAndStore(
  s: Pick<Services, 'config' | 'repos'>,
  source: string,
  sourceSha: string,
  output: string,
  originalName: string,
  slot: LaneSlot,
): Promise<{ media: Media; existed: boolean }> {
  const work = workOf(s, slot)
  assertWithinLimits(await probeAudio(source, work), work.limits)
  const t = await normaliseAndTranscode(
    source,
    output,
    { codec: s.config.mediaCodec, bitrateKbps: s.config.mediaBitrateKbps, targetI: s.config.loudnessLufs },
    work,
  )
  const out = await probeAudio(output, work)
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
