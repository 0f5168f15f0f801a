import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AgentError } from '../errors.js'

/** One `/sys/class/gpio/gpiochip<base>` directory. */
export interface SysfsChip {
  /** Directory name, `gpiochip<base>` (not the character device's name). */
  dir: string
  base: number
  label: string
  ngpio: number
}

const read = (file: string) => readFileSync(file, 'utf8').trim()

export function sysfsChips(root: string): SysfsChip[] {
  let names: string[]
  try {
    names = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n))
  } catch (err) {
    throw new AgentError('LOA_RELAY_CHIP', [`cannot read ${root}: ${(err as Error).message}`])
  }
  const chips: SysfsChip[] = []
  for (const dir of names) {
    try {
      const d = join(root, dir)
      chips.push({
        dir,
        base: Number(read(join(d, 'base'))),
        label: read(join(d, 'label')),
        ngpio: Number(read(join(d, 'ngpio'))),
      })
    } catch {
      // A chip that vanished between readdir and read (hot-unplugged USB GPIO): not ours.
    }
  }
  return chips
}

/**
 * The sysfs GPIO number of line `line` of chip `chip`: the chip's base plus the offset. Since kernel 6.6 bases
 * are allocated from 512 upwards, so the old "BCM pin = sysfs number" no longer holds. `chip` is a label
 * (`pinctrl-bcm2711`, `pinctrl-rp1`), a sysfs directory (`gpiochip512`) or the character device's name
 * (`gpiochip0`, found as `<dir>/device/gpiochip0`).
 */
export function sysfsGpioNumber(root: string, chip: string, line: number): number {
  const chips = sysfsChips(root)
  const found =
    chips.find((c) => c.label === chip) ??
    chips.find((c) => c.dir === chip) ??
    chips.find((c) => existsSync(join(root, c.dir, 'device', chip)))
  if (!found) {
    const have = chips.map((c) => `${c.dir} [${c.label}] base ${c.base}`).join(', ')
    throw new AgentError('LOA_RELAY_CHIP', [`no GPIO chip "${chip}" under ${root} (have ${have || 'none'})`])
  }
  if (!Number.isInteger(line) || line < 0 || line >= found.ngpio) {
    throw new AgentError('LOA_RELAY_CHIP', [`${found.label} has ${found.ngpio} lines, not ${line}`])
  }
  return found.base + line
}
