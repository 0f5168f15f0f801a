import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '@loa/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { fakeGpiod, gpiosetCalls } from '../../test-kit/gpio-fakes.js'
import { tmp } from '../../test-kit/test-helpers.js'
import { AgentError } from '../errors.js'
import {
  GpiodAmpSwitch,
  gpiodVersion,
  gpiosetArgs,
  parseGpiodetect,
  parseGpiodVersion,
} from './amp-switch-gpiod.js'

// This machine has no gpio-sim (no /sys/kernel/config, no module), so these tests check the exact commands the
// driver issues, through fake gpioset/gpiodetect executables first on PATH that record their argv and keep
// running (holding the line) exactly when the real tool of that version would. Version detection is also checked
// against the real Debian gpiod binary when it is installed.

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const drivers: GpiodAmpSwitch[] = []
afterEach(() => {
  for (const d of drivers.splice(0)) d.offSync()
})

function setup(
  version: '1.6.3' | '2.1.3',
  opts: { chip?: string; activeLow?: boolean; busy?: string[] } = {},
) {
  const dir = tmp('loa-gpiod-')
  const log = join(dir, 'gpioset.log')
  const env = fakeGpiod(join(dir, 'bin'), version, log, opts.busy)
  const lost: string[] = []
  const d = new GpiodAmpSwitch({
    chip: opts.chip ?? 'gpiochip0',
    line: 17,
    activeLow: opts.activeLow ?? false,
    env,
    onLost: (why) => lost.push(why),
  })
  drivers.push(d)
  return { d, log, lost }
}

describe('libgpiod version detection', () => {
  it('parses v1 and v2 banners and refuses others', () => {
    expect(parseGpiodVersion('gpioset (libgpiod) v1.6.3\nCopyright (C) 2017-2018')).toBe(1)
    expect(parseGpiodVersion('gpioset (libgpiod) v2.1.3\n')).toBe(2)
    expect(() => parseGpiodVersion('gpioset 3.0')).toThrow(AgentError)
  })

  it.runIf(existsSync('/usr/bin/gpioset'))(
    'detects the installed Debian gpioset (bookworm: v1)',
    async () => {
      const v = await gpiodVersion('/usr/bin/gpioset')
      expect([1, 2]).toContain(v)
    },
  )

  it.runIf(existsSync('/usr/bin/gpioset'))(
    'the real v1 gpioset accepts our v1 options (and rejects v2 ones)',
    () => {
      const real = (args: string[]) => spawnSync('/usr/bin/gpioset', args, { encoding: 'utf8' }).stderr
      if (parseGpiodVersion(execFileSync('/usr/bin/gpioset', ['--version'], { encoding: 'utf8' })) !== 1)
        return
      // No GPIO chip here: the tool gets past option parsing and fails opening the chip.
      for (const hold of [true, false]) {
        const err = real(gpiosetArgs(1, 'gpiochip0', 17, true, true, hold))
        expect(err).not.toMatch(/unrecognized|invalid/)
        expect(err).toMatch(/error setting the GPIO line values|No such file/)
      }
      expect(real(gpiosetArgs(2, 'gpiochip0', 17, true, false, true))).toMatch(/unrecognized option/)
    },
  )

  it('parses gpiodetect', () => {
    expect(
      parseGpiodetect(
        'gpiochip0 [pinctrl-rp1] (54 lines)\ngpiochip10 [gpio-brcmstb@107d508500] (32 lines)\n',
      ),
    ).toEqual([
      { name: 'gpiochip0', label: 'pinctrl-rp1', lines: 54 },
      { name: 'gpiochip10', label: 'gpio-brcmstb@107d508500', lines: 32 },
    ])
  })
})

describe('GpiodAmpSwitch (fake gpioset on PATH)', () => {
  it('v1 (bookworm): holds with --mode=signal, replaces the holder on each switch, drives off on exit', async () => {
    const { d, log } = setup('1.6.3')
    await d.set(true)
    let calls = gpiosetCalls(log)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.args).toBe('--mode=signal gpiochip0 17=1')
    const first = calls[0]?.pid as number
    expect(alive(first)).toBe(true)
    await d.set(false)
    calls = gpiosetCalls(log)
    expect(calls.map((c) => c.args)).toEqual([
      '--mode=signal gpiochip0 17=1',
      'released',
      '--mode=signal gpiochip0 17=0',
    ])
    expect(alive(first)).toBe(false)
    const second = calls[2]?.pid as number
    expect(alive(second)).toBe(true)
    d.offSync()
    await waitFor(() => !alive(second))
    expect(gpiosetCalls(log).at(-1)?.args).toBe('--mode=exit gpiochip0 17=0')
  })

  it('v2 (trixie): holds by default with --chip, sets once with -t 0 on exit; active-low passes --active-low', async () => {
    const { d, log } = setup('2.1.3', { activeLow: true })
    await d.set(true)
    expect(gpiosetCalls(log)[0]?.args).toBe('--consumer=loa-agent --active-low --chip gpiochip0 17=1')
    expect(alive(gpiosetCalls(log)[0]?.pid as number)).toBe(true)
    expect(d.describe()).toBe('gpiod v2 gpiochip0 line 17 (active-low)')
    d.offSync()
    expect(gpiosetCalls(log).at(-1)?.args).toBe(
      '-t 0 --consumer=loa-agent --active-low --chip gpiochip0 17=0',
    )
  })

  it('resolves a chip label through gpiodetect (v2 --chip takes no label) and refuses an unknown one', async () => {
    const { d, log } = setup('2.1.3', { chip: 'pinctrl-bcm2711' })
    await d.set(true)
    expect(gpiosetCalls(log)[0]?.args).toBe('--consumer=loa-agent --chip gpiochip0 17=1')
    const bad = setup('2.1.3', { chip: 'pinctrl-rp1' })
    await expect(bad.d.set(true)).rejects.toMatchObject({ code: 'LOA_RELAY_CHIP' })
    await expect(bad.d.set(true)).rejects.toThrow(/pinctrl-bcm2711/)
  })

  it('a busy line (gpioset exits at once) rejects with its stderr', async () => {
    const { d } = setup('1.6.3', { busy: ['17'] })
    await expect(d.set(true)).rejects.toMatchObject({ code: 'LOA_RELAY_SWITCH' })
    await expect(d.set(true)).rejects.toThrow(/Device or resource busy/)
  })

  it('reports a holder that dies on its own', async () => {
    const { d, log, lost } = setup('1.6.3')
    await d.set(true)
    process.kill(gpiosetCalls(log)[0]?.pid as number, 'SIGKILL')
    await waitFor(() => lost.length > 0)
    expect(lost[0]).toMatch(/gpioset exited/)
  })
})
