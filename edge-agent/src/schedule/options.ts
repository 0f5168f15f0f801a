import type { DesiredStateBody } from '@loa/shared'
import type { Logger } from 'pino'
import type { Clock } from '../clock/clock.js'
import type { AmpSwitch } from '../hardware/amp-switch.js'
import type { Outbox } from '../link/outbox.js'
import type { MediaCache } from '../media/cache.js'
import type { Player } from '../playback/player.js'
import type { LiveHooks } from '../relays/live-session.js'
import type { Db } from '../storage/db.js'
import type { StorageGuard } from '../storage/guard.js'
import type { QueuedAlert } from './arbiter.js'

/** What the alert manager hears about the alerts it queued. */
export interface AlertHooks {
  /** The audio of an alert started (every item; acks de-duplicate). */
  started(a: QueuedAlert): void
  /** Every item of the alert has had its turn: `played` of them played. */
  finished(a: QueuedAlert, played: number, failures: string[]): void
}

export interface SchedulerOptions {
  db: Db
  outbox: Outbox
  cache: MediaCache
  player: Player
  ampSwitch: AmpSwitch
  log: Logger
  /** The desired state to evaluate (the newest received). */
  desired: () => DesiredStateBody | null
  defaultTimezone: string
  prerollMs: number
  postrollMs: number
  /** Occurrences found later than this after their instant (e.g. after a restart) are skipped as missed. */
  lateToleranceMs?: number
  /** A queued occurrence that cannot start within this of its instant is skipped. */
  graceMs?: number
  tickMs?: number
  /** A cached file failed verification: the reconciler should fetch it again. */
  onCorrupt?: () => void
  alertHooks?: AlertHooks
  /** Plays the turns of live relays (occurrences with `live`). */
  liveHooks?: LiveHooks
  /** Duration of media the desired state does not list (alert items), to bound their play. */
  durationOf?: (sha: string) => number | undefined
  /** "Now" and durations (clock/clock.ts); default the system clock. */
  clock?: Clock
  /** Where database and disk faults go (storage/guard.ts). */
  storage?: StorageGuard
}
