import { cpus, freemem, loadavg, totalmem } from 'node:os'
import type { TelemetryBody } from '@loa/shared'
import { type Clock, systemClock } from '../clock/clock.js'
import type { AmpSwitch } from '../hardware/amp-switch.js'
import type { Scheduler } from '../schedule/scheduler.js'
import { diskSpace } from '../storage/disk-space.js'
import type { StorageGuard } from '../storage/guard.js'
import type { Outbox } from './outbox.js'

/** The heartbeat: a sample every `intervalS`, through the outbox (at most ~2000 are kept while offline). */
export class Telemetry {
  private timer: NodeJS.Timeout | null = null
  private readonly clock: Clock
  /** Monotonic: uptime never goes negative (or leaps) when the wall clock is stepped. */
  private readonly startedMono: number

  constructor(
    private readonly o: {
      outbox: Outbox
      dataDir: string
      ampSwitch: AmpSwitch
      scheduler: Scheduler
      agentVersion: string
      intervalS: number
      /** Optional fields (health, modem, position): each left out when unreadable. */
      extra?: () => Promise<Partial<TelemetryBody>>
      clock?: Clock
      /** Where database and disk faults go: a sample every interval is also a canary for the outbox's pages. */
      storage?: StorageGuard
    },
  ) {
    this.clock = o.clock ?? systemClock
    this.startedMono = this.clock.mono()
  }

  async sample(): Promise<TelemetryBody> {
    let disk = { total: 0, free: 0 }
    try {
      disk = await diskSpace(this.o.dataDir)
    } catch {}
    const extra = await (this.o.extra?.() ?? Promise.resolve({})).catch(() => ({}))
    return {
      ...extra,
      at: new Date(this.clock.now()).toISOString(),
      uptimeS: Math.max(0, this.clock.mono() - this.startedMono) / 1000,
      agentVersion: this.o.agentVersion,
      cpuLoad1: loadavg()[0] ?? 0,
      cpuCount: Math.max(1, cpus().length),
      memTotalBytes: totalmem(),
      memFreeBytes: freemem(),
      diskTotalBytes: disk.total,
      diskFreeBytes: disk.free,
      // Telemetry wire field (a contract): the amplifier switch.
      relayOn: this.o.ampSwitch.isOn(),
      nowPlaying: this.o.scheduler.nowPlaying,
      outboxPending: this.o.outbox.pendingCount(),
      clock: this.clock.status(),
    }
  }

  start(): void {
    const send = () =>
      this.sample()
        .then((s) => this.o.outbox.enqueue('telemetry', s))
        .catch((err) => this.o.storage?.handle(err))
    void send()
    this.timer = setInterval(() => void send(), this.o.intervalS * 1000)
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
  }
}
