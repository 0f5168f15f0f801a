import type { AlertCounts, AlertTargetStatus } from '../commands/model.js'
import type { Live, LiveState, Relay } from './model.js'

/** Storage of live relays (and their targets' stages) and recurring relays, storage-neutral. */

export interface LiveRepository {
  /** Stores a new live relay and its targeted clusters, folding in any acks that already arrived for its ack id. */
  create(live: Live, clusterIds: string[]): Promise<void>
  setState(id: string, state: LiveState): Promise<void>
  get(id: string): Promise<Live | null>
  /** Highest band first, then by start time. */
  list(opts?: { state?: LiveState; limit?: number }): Promise<Live[]>
  targets(id: string): Promise<AlertTargetStatus[]>
  targetIds(id: string): Promise<string[]>
  counts(id: string): Promise<AlertCounts>
  /** Active live relays with the clusters they target, for the desired-state builder. */
  activeWithTargets(): Promise<{ live: Live; clusterIds: string[] }[]>
}

export interface RelayRepository {
  create(r: Omit<Relay, 'createdAt'>): Promise<Relay>
  get(id: string): Promise<Relay | null>
  list(): Promise<Relay[]>
  delete(id: string): Promise<boolean>
}
