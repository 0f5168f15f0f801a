import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fakeSysfs } from '../../test-kit/gpio-fakes.js'
import { tmp } from '../../test-kit/test-helpers.js'
import { SysfsAmpSwitch } from './amp-switch-sysfs.js'
import { sysfsChips, sysfsGpioNumber } from './gpio-sysfs-chips.js'

// The sysfs driver against a directory shaped like /sys/class/gpio on a kernel ≥ 6.6 (chip bases from 512), with
// a fake kernel that creates gpio<N>/ when a number is written to `export`.

const stops: (() => void)[] = []
afterEach(() => {
  for (const s of stops.splice(0)) s()
})

function root(): string {
  const r = tmp('loa-sysfs-')
  stops.push(fakeSysfs(r))
  return r
}

const read = (r: string, n: number, f: string) => readFileSync(join(r, `gpio${n}`, f), 'utf8').trim()

describe('sysfs GPIO numbering', () => {
  it('maps line N of a chip to base + N, by label, sysfs name or character-device name', () => {
    const r = root()
    expect(
      sysfsChips(r)
        .map((c) => c.base)
        .sort(),
    ).toEqual([512, 570])
    expect(sysfsGpioNumber(r, 'pinctrl-bcm2711', 17)).toBe(529)
    expect(sysfsGpioNumber(r, 'gpiochip512', 17)).toBe(529)
    expect(sysfsGpioNumber(r, 'gpiochip0', 17)).toBe(529)
    expect(sysfsGpioNumber(r, 'raspberrypi-exp-gpio', 2)).toBe(572)
  })

  it('refuses an unknown chip (naming those present) and a line beyond ngpio', () => {
    const r = root()
    expect(() => sysfsGpioNumber(r, 'pinctrl-rp1', 17)).toThrow(/pinctrl-bcm2711.*base 512/)
    expect(() => sysfsGpioNumber(r, 'pinctrl-bcm2711', 58)).toThrow(/58 lines/)
    expect(() => sysfsGpioNumber(join(r, 'nope'), 'x', 1)).toThrow(/cannot read/)
  })
})

describe('SysfsAmpSwitch', () => {
  it('exports, makes an output already off, then writes physical levels (active-high)', async () => {
    const r = root()
    const d = new SysfsAmpSwitch({ root: r, chip: 'pinctrl-bcm2711', line: 17, activeLow: false })
    await d.set(false)
    expect(read(r, 529, 'direction')).toBe('low')
    expect(read(r, 529, 'active_low')).toBe('0')
    await d.set(true)
    expect(read(r, 529, 'value')).toBe('1')
    d.offSync()
    expect(read(r, 529, 'value')).toBe('0')
  })

  it('active-low: off is high, on is low', async () => {
    const r = root()
    const d = new SysfsAmpSwitch({ root: r, chip: 'gpiochip0', line: 22, activeLow: true })
    await d.set(true)
    expect(read(r, 534, 'direction')).toBe('high')
    expect(read(r, 534, 'value')).toBe('0')
    d.offSync()
    expect(read(r, 534, 'value')).toBe('1')
  })

  it('a line that never appears after export fails with a clear error', async () => {
    const r = tmp('loa-sysfs-')
    fakeSysfs(r)() // chips present, but no kernel answering exports
    const d = new SysfsAmpSwitch({
      root: r,
      chip: 'pinctrl-bcm2711',
      line: 4,
      activeLow: false,
      exportTimeoutMs: 200,
    })
    await expect(d.set(true)).rejects.toMatchObject({ code: 'LOA_RELAY_SWITCH' })
    await expect(d.set(true)).rejects.toThrow(/gpio516.*direction/)
  })
})
