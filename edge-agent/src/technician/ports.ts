import type { ClockTelemetry, DesiredStateBody, NowPlaying, TestSpec } from '@loa/shared'
import type { AgentConfig } from '../config/config.js'
import type { ZoneInfo } from '../hardware/box-controls.js'
import type { ModemStatus } from '../hardware/modem/modem.js'
import type { AmpSwitchTransition } from '../hardware/zones.js'
import type { Outbox } from '../link/outbox.js'
import type { MediaRow } from '../media/cache.js'
import type { RecentPlay } from '../playback/play-log.js'
import type { LocalAction, LocalPlays } from './plays.js'

/**
 * What the technician's page may reach of the agent (docs/technician-page.md): the routes depend on these ports
 * only, never on the agent, its database or its parts. The agent provides them (agent-technician.ts).
 */

/** The settings the page reads: read on every use, so the held config object is the one in force. */
export type TechnicianConfig = Pick<
  AgentConfig,
  'deviceId' | 'dataDir' | 'timezone' | 'localPage' | 'technician'
>

/** Events to the province (logins, refused uploads, actions done), through the outbox. */
export type TechnicianEvents = Pick<Outbox, 'event'>

/** The province link as the status screen shows it. */
export interface ProvinceView {
  connected: boolean
  /** The broker connected to (`mqtt://host:port`, never credentials), null while offline. */
  broker: string | null
  /** When the province last sent anything (ms since the epoch). */
  lastContactAt: number | null
  /** Desired states not newer than the one held, dropped unparsed. */
  staleDesiredDropped: number
  outboxPending: number
}

/** What the status screen reads (GET /api/status). */
export interface StatusReader {
  /** The agent's version (package.json). */
  version(): string
  /** The agent's "now" (the signed floor when the local clock is behind it). */
  now(): number
  clock(): ClockTelemetry
  /** The desired state held, if any. */
  desired(): DesiredStateBody | null
  province(): ProvinceView
  /** Null when the box has no modem. */
  modem(): ModemStatus | null
  nowPlaying(): NowPlaying | null
  /** Whether the amplifier switch is on (any zone). */
  ampSwitchOn(): boolean
  zones(): ZoneInfo[]
  media(): MediaRow[]
}

/** Recent activity (GET /api/activity): local actions, plays and amplifier switching, newest first. */
export interface ActivityReader {
  localActions(): LocalAction[]
  recentPlays(limit: number): RecentPlay[]
  recentAmpSwitching(limit: number): AmpSwitchTransition[]
}

/** The queue of local actions (tone tests, the amplifier held on by hand, announcements), through the arbiter. */
export type LocalActionQueue = Pick<LocalPlays, 'busy' | 'recent' | 'get' | 'request' | 'cancel'>

/** What the technician's buttons do (POST routes). */
export interface TechnicianActions {
  zones(): ZoneInfo[]
  /** A tone test on a zone; throws LOA_AGENT_ZONE_UNKNOWN for an unknown zone. */
  testTone(spec: TestSpec, by: string): Promise<{ actions: LocalAction[] }>
  setVolume(zone: string, percent: number): Promise<void>
  /** Holds of the amplifier switch by hand and local announcements are queued here. */
  readonly local: LocalActionQueue
  now(): number
}

export interface TechnicianPorts {
  readonly config: TechnicianConfig
  readonly events: TechnicianEvents
  readonly status: StatusReader
  readonly activity: ActivityReader
  readonly actions: TechnicianActions
}

/** Whatever provides the ports (the agent). */
export interface TechnicianHost {
  readonly technician: TechnicianPorts
}
