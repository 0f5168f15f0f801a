import type { AlertCounts, AlertTargetStatus } from '../commands/model.js'
import type { Alert, AlertState } from './model.js'

/** Storage of alerts and their targets' stages, storage-neutral (see repositories.ts). */

export interface AlertRepository {
  /** Stores a new alert and its targeted clusters, folding in any acks that already arrived for its ack id. */
  create(alert: Alert, clusterIds: string[]): Promise<void>
  /** A new revision: content, ack id and expiry change, every target goes back to pending. */
  revise(alert: Alert): Promise<void>
  setState(id: string, state: AlertState): Promise<void>
  get(id: string): Promise<Alert | null>
  /** Newest first is useless in an emergency: ordered by band (highest first), then by creation time. */
  list(opts?: { state?: AlertState; limit?: number }): Promise<Alert[]>
  targets(id: string): Promise<AlertTargetStatus[]>
  targetIds(id: string): Promise<string[]>
  counts(id: string): Promise<AlertCounts>
  /** Active alerts with the clusters they target, for the desired-state builder. */
  activeWithTargets(): Promise<{ alert: Alert; clusterIds: string[] }[]>
}
