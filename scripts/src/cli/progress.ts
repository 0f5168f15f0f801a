import cliProgress from 'cli-progress'
import type { Output } from './output.js'

export interface Progress {
  tick(label?: string): void
  stop(): void
}

/** A progress bar on stderr when a person is watching a terminal; silent otherwise (scripts, --json, pipes). */
export function progress(out: Output, total: number, title: string): Progress {
  if (!out.interactive || total < 2) return { tick() {}, stop() {} }
  const bar = new cliProgress.SingleBar(
    { format: `${title} [{bar}] {value}/{total} {label}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, { label: '' })
  return {
    tick(label = '') {
      bar.increment(1, { label })
    },
    stop() {
      bar.stop()
    },
  }
}
