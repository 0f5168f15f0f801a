import { execFile } from 'node:child_process'
import type { Logger } from 'pino'
import { monotonicMs } from '../clock/clock.js'

/** One thing that must be alive for the agent to be worth keeping: null when fine, else why not (`now`: monotonic). */
export interface HealthProbe {
  name: string
  check(now: number): string | null
}

/** Sends sd_notify states (`READY=1`, `WATCHDOG=1`) to the service manager. */
export type Notifier = (state: string) => Promise<void>

/**
 * sd_notify through systemd's own `systemd-notify`: Node has no unix datagram sockets, and a native addon for one
 * message every few seconds is not worth a build step on the Pi. The unit needs `NotifyAccess=all` (the sender is
 * a child); since systemd 246 `systemd-notify` waits (BARRIER=1) until the manager has read the message, so it is
 * attributed to our unit even though the child exits at once (bookworm has 252, trixie 257).
 */
export function systemdNotifier(env: NodeJS.ProcessEnv, command = 'systemd-notify'): Notifier | null {
  if (!env.NOTIFY_SOCKET) return null
  return (state) =>
    new Promise((resolve, reject) => {
      execFile(command, [state], { env, timeout: 10_000 }, (err) => (err ? reject(err) : resolve()))
    })
}

/** Half of systemd's `WatchdogSec` (WATCHDOG_USEC), as sd_watchdog_enabled(3) advises; null when not asked for. */
export function watchdogPingMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC)
  if (!Number.isFinite(usec) || usec <= 0) return null
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null
  return Math.max(100, Math.floor(usec / 2000))
}

/**
 * Pings the systemd watchdog only while every probe is healthy. A probe that fails stops the pings: systemd then
 * restarts the agent after `WatchdogSec`, and `onUnhealthy` has recorded why (reported after the restart).
 */
export class Watchdog {
  private timer: NodeJS.Timeout | null = null
  private unhealthy = false

  constructor(
    private readonly o: {
      notify: Notifier
      probes: HealthProbe[]
      pingMs: number
      log: Logger
      onUnhealthy: (reasons: string[]) => void
      onHealthy: () => void
    },
  ) {}

  start(): void {
    void this.o.notify('READY=1').catch((err) => this.o.log.warn({ err }, 'sd_notify READY failed'))
    this.timer = setInterval(() => this.beat(), this.o.pingMs)
    this.beat()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    void this.o.notify('STOPPING=1').catch(() => {})
  }

  /** The probes' verdicts now (also shown to the technician); `now` is monotonic ms. */
  reasons(now = monotonicMs()): string[] {
    const out: string[] = []
    for (const p of this.o.probes) {
      const why = p.check(now)
      if (why) out.push(`${p.name}: ${why}`)
    }
    return out
  }

  private beat(): void {
    const reasons = this.reasons()
    if (reasons.length > 0) {
      if (!this.unhealthy) {
        this.unhealthy = true
        this.o.log.error({ reasons }, 'unhealthy: watchdog pings stopped')
        this.o.onUnhealthy(reasons)
      }
      return
    }
    if (this.unhealthy) {
      this.unhealthy = false
      this.o.log.warn('healthy again: watchdog pings resumed')
      this.o.onHealthy()
    }
    void this.o.notify('WATCHDOG=1').catch((err) => this.o.log.warn({ err }, 'sd_notify WATCHDOG failed'))
  }
}
