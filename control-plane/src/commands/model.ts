import type { CommandAckBody } from '@loa/shared'

/**
 * Commands, their acknowledgements, and the per-target stages that alerts and live relays share
 * (commands/sqlite-targets.ts).
 */

export interface CommandRecord {
  id: string
  clusterId: string
  kind: string
  deadline: string
  createdAt: string
}

export interface AckRecord {
  clusterId: string
  stage: CommandAckBody['stage']
  at: string
  reason: string | null
}

/** What an acknowledgement or play from outside a command's targets was about (commands/sqlite-untargeted.ts). */
export type UntargetedThing = 'command' | 'alert' | 'live'

/**
 * An acknowledgement or a play from a cluster that the command, alert or live relay never targeted (a replayed or
 * misdelivered command): recorded, never counted. `stage` is the ack's stage or the play's status.
 */
export interface UntargetedReport {
  id: string
  clusterId: string
  channel: 'ack' | 'play'
  thing: UntargetedThing
  thingId: string
  commandId: string | null
  stage: string
  at: string
  receivedAt: string
}

export type AlertStage = 'received' | 'playing' | 'done' | 'failed' | 'cancelled' | 'expired'

export interface AlertTargetStatus {
  clusterId: string
  stage: AlertStage | null
  at: string | null
  reason: string | null
}

export interface AlertCounts {
  targeted: number
  received: number
  playing: number
  done: number
  failed: number
  cancelled: number
  expired: number
  pending: number
}
