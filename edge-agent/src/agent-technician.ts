import type { Clock } from './clock/clock.js'
import type { AgentConfig } from './config/config.js'
import type { DesiredGate } from './desired/gate.js'
import type { DesiredStore } from './desired/store.js'
import type { AmpSwitch } from './hardware/amp-switch.js'
import type { Modem } from './hardware/modem/modem.js'
import type { ZoneTests } from './hardware/zone-test.js'
import type { Zones } from './hardware/zones.js'
import type { MqttLink } from './link/mqtt.js'
import type { Outbox } from './link/outbox.js'
import type { MediaCache } from './media/cache.js'
import type { Scheduler } from './schedule/scheduler.js'
import type { LocalPlays } from './technician/plays.js'
import type { TechnicianPorts } from './technician/ports.js'

/** The agent's parts the ports read, by their own types: naming `Agent` here would make an import cycle. */
export interface TechnicianSources {
  readonly config: AgentConfig
  readonly outbox: Outbox
  readonly clock: Clock
  readonly store: DesiredStore
  readonly link: MqttLink
  readonly lastContactAt: number | null
  readonly desiredGate: DesiredGate
  readonly modem: Modem | null
  readonly scheduler: Scheduler
  readonly ampSwitch: AmpSwitch
  readonly box: Zones
  readonly cache: MediaCache
  readonly localPlays: LocalPlays
  readonly zoneTests: ZoneTests
}

/** The technician page's ports over the agent's parts (technician/ports.ts): the page sees nothing else. */
export function technicianPorts(agent: TechnicianSources, version: string): TechnicianPorts {
  return {
    config: agent.config,
    events: { event: (...a) => agent.outbox.event(...a) },
    status: {
      version: () => version,
      now: () => agent.clock.now(),
      clock: () => agent.clock.status(),
      desired: () => agent.store.received()?.body ?? null,
      province: () => ({
        connected: agent.link.connected,
        broker: agent.link.broker,
        lastContactAt: agent.lastContactAt,
        staleDesiredDropped: agent.desiredGate.dropped,
        outboxPending: agent.outbox.pendingCount(),
      }),
      modem: () => agent.modem?.status().modem ?? null,
      nowPlaying: () => agent.scheduler.nowPlaying,
      ampSwitchOn: () => agent.ampSwitch.isOn(),
      zones: () => agent.box.zones(),
      media: () => agent.cache.all(),
    },
    activity: {
      localActions: () => agent.localPlays.recent(),
      recentPlays: (limit) => agent.scheduler.plays.recent(limit),
      recentAmpSwitching: (limit) => agent.box.recentTransitions(limit),
    },
    actions: {
      zones: () => agent.box.zones(),
      testTone: (spec, by) => agent.zoneTests.start(spec, by),
      setVolume: (zone, percent) => agent.box.setVolume(zone, percent),
      local: agent.localPlays,
      now: () => agent.clock.now(),
    },
  }
}
