import type { BoxControls, ZoneInfo } from './box-controls.js'
import { type Db, kvGet, kvSet } from './db.js'
import { AgentError } from './errors.js'
import type { Relay } from './relay.js'

/**
 * The box as far as the simulated relay goes: one zone, `main`, switched by the agent's own relay. The volume is
 * only remembered (SQLite kv), since there is no mixer behind it; the box drivers replace this with real zones.
 */
export class SingleRelayControls implements BoxControls {
  constructor(
    private readonly relay: Relay,
    private readonly db: Db,
  ) {}

  zones(): ZoneInfo[] {
    const v = kvGet(this.db, 'zone.main.volume')
    return [
      {
        id: 'main',
        label: 'Loa chính / Main',
        relayOn: this.relay.isOn(),
        volumePercent: v ? Number(v) : 100,
      },
    ]
  }

  private check(zone: string): void {
    if (zone !== 'main') throw new AgentError('LOA_AGENT_ZONE_UNKNOWN', [`zone ${zone}`])
  }

  async setRelay(zone: string, on: boolean): Promise<void> {
    this.check(zone)
    await this.relay.set(on)
  }

  async setVolume(zone: string, percent: number): Promise<void> {
    this.check(zone)
    kvSet(this.db, 'zone.main.volume', String(Math.round(Math.min(100, Math.max(0, percent)))))
  }
}
