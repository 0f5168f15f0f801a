import { join } from 'node:path'
import { makeTone } from '@loa/testkit'

import type { ControlPlaneHandle } from './control-plane.js'

/** Uploads a sine tone of `seconds` at `hz` and makes a normal bulletin of it. */
export async function toneBulletin(
  cp: ControlPlaneHandle,
  dir: string,
  seconds: number,
  hz: number,
): Promise<{ id: string; sha256: string }> {
  const wav = join(dir, `tone-${seconds}-${hz}.wav`)
  makeTone(wav, seconds, hz)
  const media = await cp.upload(wav)
  const b = await cp.api<{ id: string }>('POST', '/api/bulletins', {
    title: `Tone ${hz}`,
    level: 'normal',
    mediaSha256: media.sha256,
  })
  return { id: b.id, sha256: media.sha256 }
}
