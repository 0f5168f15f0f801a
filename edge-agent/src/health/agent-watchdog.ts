import type { NowPlaying } from '@loa/shared'
import type { Logger } from 'pino'
import type { Agent } from '../agent.js'
import { monotonicMs } from '../clock/clock.js'
import { clearUnhealthy, recordUnhealthy } from './run-marker.js'
import { type HealthProbe, systemdNotifier, Watchdog, watchdogPingMs } from './watchdog.js'

/** The margin past the player's own kill bound (2 × duration + 30 s) after which a play counts as hung. */
const PLAYER_MARGIN_MS = 60_000
/** mqtt.js gets a PINGRESP every keepalive (30 s) while connected: four missed means its loop is stuck. */
const MQTT_SILENT_MS = 120_000

/**
 * What the probes look at (the agent's scheduler and MQTT link; a plain object in tests). Every time is monotonic
 * (clock/clock.ts): a step of the wall clock must not look like a hang, or systemd would restart a healthy agent.
 */
export interface ProbeTarget {
  scheduler: { lastTickAt: number; nowPlaying: NowPlaying | null; playingForMs(): number | null }
  link: { connected: boolean; lastPacketAt: number }
  /** The manifest's duration of a file (ms), when known. */
  durationOf: (sha: string) => number | undefined
}

/** What "the main loop is healthy" means: the scheduler ticks, the player is not stuck, the MQTT link moves. */
export function agentProbes(agent: ProbeTarget, staleTickMs: number): HealthProbe[] {
  const durationOf = (sha: string) => agent.durationOf(sha)
  return [
    {
      name: 'scheduler',
      check: (now) => {
        const ago = now - agent.scheduler.lastTickAt
        return ago > staleTickMs ? `no tick for ${Math.round(ago / 1000)} s` : null
      },
    },
    {
      name: 'player',
      check: () => {
        const np = agent.scheduler.nowPlaying
        const d = np ? durationOf(np.sha256) : undefined
        const playing = agent.scheduler.playingForMs()
        // Nothing playing, or a live relay (no end known).
        if (!np || d === undefined || playing === null) return null
        const bound = d * 2 + 30_000 + PLAYER_MARGIN_MS
        return playing > bound
          ? `"${np.title}" playing for ${Math.round(playing / 1000)} s (${d} ms long)`
          : null
      },
    },
    {
      name: 'mqtt',
      check: (now) => {
        const ago = now - agent.link.lastPacketAt
        return agent.link.connected && ago > MQTT_SILENT_MS
          ? `connected, nothing received for ${Math.round(ago / 1000)} s`
          : null
      },
    },
  ]
}

/**
 * Under systemd with `WatchdogSec=` (WATCHDOG_USEC and NOTIFY_SOCKET set): READY=1 now, WATCHDOG=1 every half
 * period while healthy. When the pings stop, the health snapshot is kept in SQLite so the next start reports why.
 */
export function startAgentWatchdog(agent: Agent, env: NodeJS.ProcessEnv, log: Logger): Watchdog | null {
  const notify = systemdNotifier(env)
  if (!notify) return null
  const pingMs = watchdogPingMs(env)
  if (pingMs === null) {
    void notify('READY=1').catch(() => {})
    return null
  }
  // A tick is due every 200 ms; a stall of half the watchdog period (2–30 s) is a hang, not a busy moment.
  const staleTickMs = Math.max(2000, Math.min(30_000, pingMs))
  const wd = new Watchdog({
    notify,
    pingMs,
    log: log.child({ c: 'watchdog' }),
    probes: agentProbes(
      {
        scheduler: agent.scheduler,
        link: agent.link,
        durationOf: (sha) =>
          agent.store.received()?.body.media.find((m) => m.sha256 === sha)?.durationMs ??
          agent.alerts.durationOf(sha),
      },
      staleTickMs,
    ),
    onUnhealthy: (reasons) =>
      recordUnhealthy(agent.db, reasons, {
        nowPlaying: agent.scheduler.nowPlaying,
        // Event data field (a contract): the amplifier switch.
        relayOn: agent.ampSwitch.isOn(),
        mqttConnected: agent.link.connected,
        lastTickAgoMs: Math.round(monotonicMs() - agent.scheduler.lastTickAt),
        outboxPending: agent.outbox.pendingCount(),
      }),
    onHealthy: () => clearUnhealthy(agent.db),
  })
  wd.start()
  return wd
}
