/**
 * One amplifier switch line at the hardware edge (a GPIO driving a relay board). `on` is logical (amplifier on);
 * active-low wiring is the driver's business. Drivers: simulated (no hardware), libgpiod's command-line tools
 * (hardware/amp-switch-gpiod.ts), sysfs (hardware/amp-switch-sysfs.ts).
 */
export interface AmpSwitchDriver {
  /** Drives the line; rejects (AgentError LOA_RELAY_*) when the hardware or the tool refuses. */
  set(on: boolean): Promise<void>
  /**
   * Exit paths (shutdown, uncaught error, watchdog): leave the amplifier off, synchronously, as far as the driver
   * can. Never throws.
   */
  offSync(): void
  /** For logs and the technician's page, e.g. `gpiod v2 gpiochip0 line 17 (active-low)`. */
  describe(): string
}

/** No hardware: the state is only remembered (and logged by the zone layer). */
export class SimulatedAmpSwitch implements AmpSwitchDriver {
  on = false
  async set(on: boolean): Promise<void> {
    this.on = on
  }
  offSync(): void {
    this.on = false
  }
  describe(): string {
    return 'simulated'
  }
}

/** The physical level (1 = high) that means `on` for a line wired active-high or active-low. */
export function level(on: boolean, activeLow: boolean): 0 | 1 {
  return on !== activeLow ? 1 : 0
}
