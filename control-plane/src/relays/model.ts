import type { Recurrence } from '@loa/shared'
import type { Targets } from '../org/model.js'

/** Live relays and recurring relays. */

/** A live relay: `active` until stopped or past `endsAt`. */
export type LiveState = 'active' | 'stopped' | 'ended'

export interface Live {
  id: string
  revision: number
  ackId: string
  title: string
  sourceUrl: string
  priority: number
  startsAt: string
  /** Null: until stopped. */
  endsAt: string | null
  volume: number | null
  state: LiveState
  targets: Targets
  createdAt: string
  updatedAt: string
}

/** A recurring relay (e.g. the national news every day at 06:00 for 30 minutes). */
export interface Relay {
  id: string
  title: string
  sourceUrl: string
  priority: number
  recurrence: Recurrence
  durationS: number
  volume: number | null
  targets: Targets
  createdAt: string
}
