import { existsSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { monotonicMs } from '../clock/clock.js'
import { AgentError } from '../errors.js'
import { sleep } from '../playback/item-player.js'
import { type AmpSwitchDriver, level } from './amp-switch-driver.js'
import { sysfsGpioNumber } from './gpio-sysfs-chips.js'

export interface SysfsOptions {
  /** `/sys/class/gpio` on a device; a directory tree of the same shape in tests. */
  root: string
  chip: string
  line: number
  activeLow: boolean
  /** How long to wait for udev to create (and give the `gpio` group) `gpio<N>/` after an export. */
  exportTimeoutMs?: number
}

/**
 * An amplifier switch on the sysfs GPIO interface, with node:fs (onoff is dormant since 2021 and computes no chip base; see
 * docs/dependencies.md). Physical levels are written (`active_low` is forced to 0) so the wiring's polarity lives
 * in one place, our config. An exported line keeps its value after the agent dies: a crash leaves the last level
 * until the next start switches it off.
 */
export class SysfsAmpSwitch implements AmpSwitchDriver {
  private dir: string | null = null

  constructor(private readonly o: SysfsOptions) {}

  describe(): string {
    return `sysfs ${this.o.chip} line ${this.o.line}${this.o.activeLow ? ' (active-low)' : ''}`
  }

  private async prepare(): Promise<string> {
    if (this.dir) return this.dir
    const n = sysfsGpioNumber(this.o.root, this.o.chip, this.o.line)
    const dir = join(this.o.root, `gpio${n}`)
    const fail = (what: string, err: unknown) =>
      new AgentError('LOA_RELAY_SWITCH', [
        `${this.describe()} (gpio${n}): ${what}: ${(err as Error).message}`,
      ])
    if (!existsSync(dir)) {
      try {
        await writeFile(join(this.o.root, 'export'), String(n))
      } catch (err) {
        throw fail('export', err)
      }
    }
    const deadline = monotonicMs() + (this.o.exportTimeoutMs ?? 2000)
    // Direction "low"/"high" makes it an output already at that level: no glitch through "on" at start.
    const off = level(false, this.o.activeLow) ? 'high' : 'low'
    for (;;) {
      try {
        await writeFile(join(dir, 'active_low'), '0')
        await writeFile(join(dir, 'direction'), off)
        break
      } catch (err) {
        if (monotonicMs() > deadline) throw fail('direction', err)
        await sleep(50)
      }
    }
    this.dir = dir
    return dir
  }

  async set(on: boolean): Promise<void> {
    const dir = await this.prepare()
    try {
      await writeFile(join(dir, 'value'), String(level(on, this.o.activeLow)))
    } catch (err) {
      throw new AgentError('LOA_RELAY_SWITCH', [`${this.describe()}: value: ${(err as Error).message}`])
    }
  }

  offSync(): void {
    if (!this.dir) return
    try {
      writeFileSync(join(this.dir, 'value'), String(level(false, this.o.activeLow)))
    } catch {}
  }
}
