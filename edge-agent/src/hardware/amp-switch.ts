import type { Db } from '../storage/db.js'

/**
 * The amplifier switch as the scheduler sees it. State is kept in memory (libgpiod v1 `gpioget` would turn the
 * output into an input), so `isOn()` never touches the hardware. In the agent it is `Zones` (hardware/zones.ts):
 * every zone's `AmpSwitchDriver` (hardware/amp-switch-driver.ts) together; `LoggedAmpSwitch` serves tests that need
 * no hardware at all.
 */
export interface AmpSwitch {
  set(on: boolean): Promise<void>
  isOn(): boolean
}

/** Records every transition in `relay_log` so tests and the e2e suite can check timing. */
export class LoggedAmpSwitch implements AmpSwitch {
  private on = false

  constructor(
    private readonly db: Db,
    private readonly driver: (on: boolean) => Promise<void> = async () => {},
  ) {}

  async set(on: boolean): Promise<void> {
    if (on === this.on) return
    await this.driver(on)
    this.on = on
    try {
      this.db
        .prepare('INSERT INTO relay_log (at, "on") VALUES (?, ?)')
        .run(new Date().toISOString(), on ? 1 : 0)
    } catch {
      // The log is evidence, the switch is safety: a full disk must not make switching look failed.
    }
  }

  isOn(): boolean {
    return this.on
  }
}
