import type { Logger } from 'pino'
import { monotonicMs } from '../clock/clock.js'
import type { ZoneConfig } from '../config/config.js'
import { AgentError, describeError } from '../errors.js'
import type { Outbox } from '../link/outbox.js'
import { type Db, kvGet, kvSet } from '../storage/db.js'
import type { AmpSwitch } from './amp-switch.js'
import { type AmpSwitchDriver, SimulatedAmpSwitch } from './amp-switch-driver.js'
import { GpiodAmpSwitch } from './amp-switch-gpiod.js'
import { SysfsAmpSwitch } from './amp-switch-sysfs.js'
import type { BoxControls, ZoneInfo } from './box-controls.js'

/** How a zone's volume is applied: an ALSA mixer control, or (returns false) ffmpeg's gain. */
export interface VolumeControl {
  /** Sets the card's control; false when the zone has none (the percent is then ffmpeg's gain). */
  apply(zone: ZoneConfig, percent: number): Promise<boolean>
}

interface Zone {
  cfg: ZoneConfig
  driver: AmpSwitchDriver
  on: boolean
  lastFaultAt: number
}

const FAULT_EVERY_MS = 60_000

/** One switching of the amplifier (table `relay_log`), as the technician's page lists it. */
export interface AmpSwitchTransition {
  at: string
  /** 1 on, 0 off (the column's name, a contract of the page's JSON). */
  on: number
}

export function createDriver(
  z: ZoneConfig,
  sysfsRoot: string,
  onLost: (why: string) => void,
): AmpSwitchDriver {
  const { driver, chip = '', line = 0, activeLow = false } = z.relay
  switch (driver) {
    case 'simulated':
      return new SimulatedAmpSwitch()
    case 'gpiod':
      return new GpiodAmpSwitch({ chip, line, activeLow, onLost })
    case 'sysfs':
      return new SysfsAmpSwitch({ root: sysfsRoot, chip, line, activeLow })
  }
}

/**
 * The box's amplifier zones. To the scheduler it is the one `AmpSwitch` (every zone together); to the technician's
 * page it is `BoxControls` (zone by zone). The intended state of each zone is written to `kv` (`relay.<zone>`, a key kept)
 * before the line is driven, so a start after a crash or `kill -9` knows a zone was left on, reports it and
 * switches it off.
 */
export class Zones implements AmpSwitch, BoxControls {
  private readonly list: Zone[]

  constructor(
    private readonly o: {
      db: Db
      outbox: Outbox
      log: Logger
      zones: ZoneConfig[]
      sysfsRoot: string
      volume?: VolumeControl
      /** Tests inject drivers; production builds them from the config. */
      driverFor?: (z: ZoneConfig, onLost: (why: string) => void) => AmpSwitchDriver
    },
  ) {
    const make = o.driverFor ?? ((z, lost) => createDriver(z, o.sysfsRoot, lost))
    this.list = o.zones.map((cfg) => {
      const zone: Zone = {
        cfg,
        driver: new SimulatedAmpSwitch(),
        on: false,
        lastFaultAt: Number.NEGATIVE_INFINITY,
      }
      zone.driver = make(cfg, (why) => this.lost(zone, why))
      return zone
    })
  }

  /**
   * At start nothing plays yet: every zone is asserted off. A zone whose intended state was still "on" was left on
   * by an unclean exit (crash, kill -9, watchdog, power cut while playing): that is reported.
   */
  async start(): Promise<void> {
    for (const z of this.list) {
      if (kvGet(this.o.db, `relay.${z.cfg.id}`) === '1') {
        this.o.outbox.event(
          // Event kind (a contract): the amplifier switch was left on.
          'relay-left-on',
          'warning',
          `zone ${z.cfg.id} was left on by an unclean exit: off`,
          {
            zone: z.cfg.id,
          },
        )
      }
      z.on = true // so drive() does not skip it
      await this.drive(z, false).catch((err) => this.fault(z, err))
      // The card's mixer may have been reset (a new USB card, a fresh image): put the zone's level back.
      if (z.cfg.volume?.control) {
        await this.o.volume?.apply(z.cfg, this.volumeOf(z) ?? 100).catch((err) => this.fault(z, err))
      }
    }
  }

  // ---- AmpSwitch: the scheduler's amplifier, every zone together ----

  async set(on: boolean): Promise<void> {
    const before = this.isOn()
    await Promise.all(this.list.map((z) => this.drive(z, on).catch((err) => this.fault(z, err))))
    if (this.isOn() !== before) this.logTransition(this.isOn())
  }

  isOn(): boolean {
    return this.list.some((z) => z.on)
  }

  // ---- BoxControls: zone by zone ----

  zones(): ZoneInfo[] {
    return this.list.map((z) => ({
      id: z.cfg.id,
      label: z.cfg.label ?? z.cfg.id,
      relayOn: z.on,
      volumePercent: this.volumeOf(z),
    }))
  }

  async setAmpSwitch(zone: string, on: boolean): Promise<void> {
    const z = this.zone(zone)
    const before = this.isOn()
    await this.drive(z, on)
    if (this.isOn() !== before) this.logTransition(this.isOn())
  }

  async setVolume(zone: string, percent: number): Promise<void> {
    const z = this.zone(zone)
    const p = Math.round(Math.min(100, Math.max(0, percent)))
    await this.o.volume?.apply(z.cfg, p)
    kvSet(this.o.db, `volume.${z.cfg.id}`, String(p))
  }

  /**
   * The gain ffmpeg applies (0–1). Zones share the one audio output, so it is the volume of the first zone that is
   * on (a zone test switches the others off: it gets its own zone's level), or of the first zone; 1 when that
   * zone has a mixer control (the card does it).
   */
  gain(): number {
    const z = this.list.find((x) => x.on) ?? this.list[0]
    if (!z || z.cfg.volume?.control) return 1
    return (this.volumeOf(z) ?? 100) / 100
  }

  volumeOf(z: Zone | string): number | null {
    const zone = typeof z === 'string' ? this.zone(z) : z
    const stored = kvGet(this.o.db, `volume.${zone.cfg.id}`)
    return stored !== undefined ? Number(stored) : (zone.cfg.volume?.percent ?? 100)
  }

  describe(zone: string): string {
    return this.zone(zone).driver.describe()
  }

  /** Exit paths: every zone off, synchronously, and the intent recorded (best effort: the db may be closed). */
  offSync(): void {
    for (const z of this.list) {
      z.driver.offSync()
      z.on = false
      try {
        kvSet(this.o.db, `relay.${z.cfg.id}`, '0')
      } catch {}
    }
  }

  private zone(id: string): Zone {
    const z = this.list.find((x) => x.cfg.id === id)
    if (!z) throw new AgentError('LOA_AGENT_ZONE_UNKNOWN', [`zone ${id}`])
    return z
  }

  /** Intent first (so a crash in between is seen at the next start), then the line. */
  private async drive(z: Zone, on: boolean): Promise<void> {
    if (z.on === on) return
    try {
      kvSet(this.o.db, `relay.${z.cfg.id}`, on ? '1' : '0')
    } catch (err) {
      // A full disk must not keep the amplifier from switching: the next start asserts off anyway.
      this.o.log.warn({ err, zone: z.cfg.id }, 'cannot record relay intent')
    }
    await z.driver.set(on)
    z.on = on
  }

  private fault(z: Zone, err: unknown): void {
    const { code, details } = describeError(err)
    this.o.log.error({ zone: z.cfg.id, code, details }, 'relay fault')
    // Monotonic: a clock stepped back must not silence switch faults for hours.
    const now = monotonicMs()
    if (now - z.lastFaultAt < FAULT_EVERY_MS) return
    z.lastFaultAt = now
    // Event kind (a contract): an amplifier switch fault.
    this.o.outbox.event('relay-fault', 'error', `zone ${z.cfg.id}: ${details.join('; ')}`.slice(0, 500), {
      zone: z.cfg.id,
      code,
      driver: z.driver.describe(),
    })
  }

  /** The process holding a line died: report it and drive the line again to what was intended. */
  private lost(z: Zone, why: string): void {
    this.fault(z, new AgentError('LOA_RELAY_SWITCH', [`${z.driver.describe()} released: ${why}`]))
    const on = z.on
    z.on = !on
    void this.drive(z, on).catch((err) => this.fault(z, err))
  }

  /** The last switchings of the amplifier, newest first. */
  recentTransitions(limit: number): AmpSwitchTransition[] {
    return this.o.db
      .prepare('SELECT at, "on" FROM relay_log ORDER BY rowid DESC LIMIT ?')
      .all(limit) as AmpSwitchTransition[]
  }

  private logTransition(on: boolean): void {
    try {
      this.o.db
        .prepare('INSERT INTO relay_log (at, "on") VALUES (?, ?)')
        .run(new Date().toISOString(), on ? 1 : 0)
    } catch {
      // The log is evidence, the switch is safety.
    }
  }
}
