import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Where ffmpeg sends audio. ALSA cards are addressed by name (`plughw:CARD=Headphones,DEV=0`), never by index,
 * since indexes change with USB devices. `file:` and `null` exist for tests and for headless runs.
 */
export interface AudioOutput {
  /** ffmpeg output arguments for one play; `label` names the play (used by the file sink). */
  args(label: string): string[]
  describe(): string
}

export function parseOutput(spec: string): AudioOutput {
  if (spec === 'null') return { args: () => ['-f', 'null', '-'], describe: () => 'null' }
  if (spec.startsWith('alsa:')) {
    const device = spec.slice('alsa:'.length)
    return { args: () => ['-f', 'alsa', device], describe: () => spec }
  }
  if (spec.startsWith('file:')) {
    const dir = spec.slice('file:'.length)
    mkdirSync(dir, { recursive: true })
    return {
      args: (label) => ['-f', 'wav', '-y', join(dir, `${label}.wav`)],
      describe: () => spec,
    }
  }
  throw new Error(`unknown output "${spec}"`)
}
