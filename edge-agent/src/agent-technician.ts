import type { Agent } from './agent.js'
import type { TechnicianPorts } from './technician/ports.js'

/** The technician page's ports over the agent's parts (technician/ports.ts): the page sees nothing else. */
export function technicianPorts(agent: Agent, version: string): TechnicianPorts {
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
