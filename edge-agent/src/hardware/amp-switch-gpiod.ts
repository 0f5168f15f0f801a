import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { AgentError } from '../errors.js'
import { ffmpegCommand as deathLinked } from '../playback/player.js'
import type { AmpSwitchDriver } from './amp-switch-driver.js'

const run = promisify(execFile)

/** libgpiod's tools changed their command line between v1 (Debian bookworm) and v2 (trixie). */
export type GpiodVersion = 1 | 2

export function parseGpiodVersion(text: string): GpiodVersion {
  const m = /\(libgpiod\)\s+v?(\d+)\./.exec(text)
  const major = m ? Number(m[1]) : Number.NaN
  if (major === 1 || major === 2) return major
  throw new AgentError('LOA_RELAY_SWITCH', [`unrecognised gpioset version: ${text.trim().slice(0, 120)}`])
}

const versions = new Map<string, Promise<GpiodVersion>>()

/** `gpioset --version`, once per executable. */
export function gpiodVersion(gpioset: string, env?: NodeJS.ProcessEnv): Promise<GpiodVersion> {
  const key = `${gpioset}\0${(env ?? process.env).PATH ?? ''}`
  let v = versions.get(key)
  if (!v) {
    v = run(gpioset, ['--version'], { env, timeout: 5000 }).then(
      ({ stdout }) => parseGpiodVersion(stdout),
      (err: Error) => {
        versions.delete(key)
        throw new AgentError('LOA_RELAY_SWITCH', [`${gpioset} --version: ${err.message}`])
      },
    )
    versions.set(key, v)
  }
  return v
}

/** `gpiodetect` lines (`gpiochip0 [pinctrl-bcm2711] (58 lines)`, the same in v1 and v2). */
export function parseGpiodetect(text: string): { name: string; label: string; lines: number }[] {
  const out: { name: string; label: string; lines: number }[] = []
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+\[(.*)\]\s+\((\d+) lines?\)/.exec(line.trim())
    if (m) out.push({ name: m[1] as string, label: m[2] as string, lines: Number(m[3]) })
  }
  return out
}

/**
 * The gpioset command line. `hold`: keep running and hold the line until signalled (v1 `--mode=signal`; v2 does
 * that by default); otherwise set and exit (v1 `--mode=exit`, v2 `-t 0`). The value is logical: `--active-low`
 * makes the tool invert it.
 */
export function gpiosetArgs(
  version: GpiodVersion,
  chip: string,
  line: number,
  on: boolean,
  activeLow: boolean,
  hold: boolean,
): string[] {
  const low = activeLow ? ['--active-low'] : []
  const value = `${line}=${on ? 1 : 0}`
  if (version === 1) return [hold ? '--mode=signal' : '--mode=exit', ...low, chip, value]
  return [...(hold ? [] : ['-t', '0']), '--consumer=loa-agent', ...low, '--chip', chip, value]
}

export interface GpiodOptions {
  /** Chip name (`gpiochip0`), number, path, or label (`pinctrl-rp1`, `pinctrl-bcm2711`). */
  chip: string
  line: number
  activeLow: boolean
  gpioset?: string
  gpiodetect?: string
  /** A gpioset still running after this long is holding the line (it exits at once on errors). */
  settleMs?: number
  env?: NodeJS.ProcessEnv
  /** The holding gpioset died on its own: the line is released. */
  onLost?: (reason: string) => void
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

/**
 * An amplifier switch on libgpiod's command-line tools. A line stays set only while a process holds it (v2 releases it when
 * gpioset exits; the Pi's pinctrl driver turns a released line back into an input), so one `gpioset` per zone
 * keeps running and is replaced on every switch. It runs under `setpriv --pdeathsig`, so it dies with the agent
 * even on `kill -9`: the line is then released and the wiring's pull resistor decides (see docs/box.md).
 */
export class GpiodAmpSwitch implements AmpSwitchDriver {
  private holder: ChildProcess | null = null
  private chipName: Promise<string> | null = null
  private version: GpiodVersion | null = null
  /** The chip name set() used, for offSync(), which cannot await. */
  private resolved: string | null = null
  private readonly gpioset: string
  private readonly gpiodetect: string

  constructor(private readonly o: GpiodOptions) {
    this.gpioset = o.gpioset ?? 'gpioset'
    this.gpiodetect = o.gpiodetect ?? 'gpiodetect'
  }

  describe(): string {
    const v = this.version ? ` v${this.version}` : ''
    return `gpiod${v} ${this.o.chip} line ${this.o.line}${this.o.activeLow ? ' (active-low)' : ''}`
  }

  /** Labels go through `gpiodetect`: v2's `--chip` takes no label, and on a Pi 5 the RP1's number changed. */
  private resolveChip(): Promise<string> {
    const chip = this.o.chip
    if (/^(gpiochip\d+|\d+|\/dev\/.+)$/.test(chip)) return Promise.resolve(chip)
    this.chipName ??= run(this.gpiodetect, [], { env: this.o.env, timeout: 5000 }).then(
      ({ stdout }) => {
        const chips = parseGpiodetect(stdout)
        const found = chips.find((c) => c.label === chip)
        if (!found) {
          this.chipName = null
          const have = chips.map((c) => `${c.name} [${c.label}]`).join(', ')
          throw new AgentError('LOA_RELAY_CHIP', [`no chip labelled "${chip}" (have ${have || 'none'})`])
        }
        if (this.o.line >= found.lines) {
          throw new AgentError('LOA_RELAY_CHIP', [
            `${found.name} has ${found.lines} lines, not ${this.o.line}`,
          ])
        }
        return found.name
      },
      (err: Error) => {
        this.chipName = null
        throw new AgentError('LOA_RELAY_CHIP', [`${this.gpiodetect}: ${err.message}`])
      },
    )
    return this.chipName
  }

  async set(on: boolean): Promise<void> {
    const chip = await this.resolveChip()
    this.resolved = chip
    this.version = await gpiodVersion(this.gpioset, this.o.env)
    await this.release()
    const args = gpiosetArgs(this.version, chip, this.o.line, on, this.o.activeLow, true)
    const [cmd, argv] = deathLinked(this.gpioset, args)
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: this.o.env })
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString('utf8')
    })
    await new Promise<void>((resolve, reject) => {
      const failed = (why: string) => {
        clearTimeout(timer)
        reject(new AgentError('LOA_RELAY_SWITCH', [`${this.describe()}: ${why} ${stderr.trim()}`.trim()]))
      }
      const onExit = (code: number | null, sig: string | null) => failed(`gpioset exited ${code ?? sig}`)
      const onError = (err: Error) => failed(err.message)
      const timer = setTimeout(() => {
        child.off('exit', onExit)
        child.off('error', onError)
        resolve()
      }, this.o.settleMs ?? 150)
      child.once('exit', onExit)
      child.once('error', onError)
    })
    this.holder = child
    child.once('exit', (code, sig) => {
      if (this.holder !== child) return
      this.holder = null
      this.o.onLost?.(`gpioset exited ${code ?? sig}: ${stderr.trim()}`.trim())
    })
  }

  /** Stops the holding gpioset (SIGTERM, SIGKILL after 2 s) and waits until the line is free. */
  private async release(): Promise<void> {
    const h = this.holder
    this.holder = null
    if (!h || h.exitCode !== null || h.signalCode !== null) return
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => h.kill('SIGKILL'), 2000)
      h.once('exit', () => {
        clearTimeout(kill)
        resolve()
      })
      h.kill('SIGTERM')
    })
  }

  /** Kills the holder, then drives the line off once (set-and-exit), retrying while the old holder lets go. */
  offSync(): void {
    const h = this.holder
    this.holder = null
    try {
      if (h?.pid && h.exitCode === null) process.kill(h.pid, 'SIGKILL')
    } catch {}
    // Both are known once set() has run; before that nothing was ever driven.
    const chip = this.resolved
    if (!this.version || !chip) return
    const args = gpiosetArgs(this.version, chip, this.o.line, false, this.o.activeLow, false)
    for (let i = 0; i < 5; i++) {
      const r = spawnSync(this.gpioset, args, { env: this.o.env, timeout: 2000, stdio: 'ignore' })
      if (r.status === 0) return
      sleepSync(50)
    }
  }
}
