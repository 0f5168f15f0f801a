import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { ZoneConfig } from '../config/config.js'
import { AgentError } from '../errors.js'
import type { VolumeControl } from '../hardware/zones.js'

const run = promisify(execFile)

/** `amixer` arguments setting `control` of card `card` (by name) to `percent`, on the perceptual scale (-M). */
export function amixerArgs(card: string, control: string, percent: number): string[] {
  return ['-q', '-M', '-D', `hw:CARD=${card}`, 'sset', control, `${percent}%`]
}

/**
 * A zone's volume on its card's mixer control (alsa-utils' `amixer`), by card name. A zone without a control is
 * left to ffmpeg's gain (apply returns false).
 */
export class AmixerVolume implements VolumeControl {
  constructor(
    private readonly amixer = 'amixer',
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  async apply(zone: ZoneConfig, percent: number): Promise<boolean> {
    const card = zone.volume?.card
    const control = zone.volume?.control
    if (!control) return false
    if (!card) throw new AgentError('LOA_AUDIO_CARD', [`zone ${zone.id}: volume.control needs volume.card`])
    try {
      await run(this.amixer, amixerArgs(card, control, percent), { env: this.env, timeout: 5000 })
    } catch (err) {
      const e = err as { stderr?: string; message: string }
      throw new AgentError('LOA_AUDIO_CARD', [
        `amixer ${card} ${control}: ${(e.stderr || e.message).trim().slice(0, 300)}`,
      ])
    }
    return true
  }
}
