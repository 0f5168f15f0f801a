import type { Db } from '../storage/db.js'

/**
 * The amplifier relay as the scheduler sees it. State is kept in memory (libgpiod v1 `gpioget` would turn the
 * output into an input), so `isOn()` never touches the hardware. In the agent it is `Zones` (hardware/zones.ts): every
 * zone's `RelayDriver` (hardware/amp-switch-driver.ts) together; `LoggedRelay` serves tests that need no hardware at all.
 */
export interface Relay {
  set(on: boolean): Promise<void>
  isOn(): boolean
}

/** Records every transition in `relay_log` so tests and the e2e suite can check timing. */
export class LoggedRelay implements Relay {
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
      // The log is evidence, the relay is safety: a full disk must not make switching look failed.
    }
  }

  isOn(): boolean {
    return this.on
  }
}
