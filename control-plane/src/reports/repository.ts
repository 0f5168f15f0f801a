import type { BulletinLevel } from '@loa/shared'
import type { PresenceChange } from '../uplink/model.js'

/** Storage behind the reports: presence history, play figures and the requested-minutes ledger, storage-neutral. */

export interface PresenceRepository {
  /** Transitions in [from, to) plus, per cluster, the last one before `from` (the state at the start). */
  history(clusterIds: string[], from: string, to: string): Promise<PresenceChange[]>
}

export interface PlayDayRow {
  clusterId: string
  /** Local date (YYYY-MM-DD) in the reporting time zone. */
  day: string
  level: BulletinLevel
  status: string
  plays: number
  durationMs: number
}

export interface ReportRepository {
  /** Non-fallback plays of the clusters in [from, to), grouped by cluster, local day, level and status. */
  playDays(clusterIds: string[], from: string, to: string, utcOffsetMin: number): Promise<PlayDayRow[]>
  /** Distinct media played successfully (not fallback) per cluster in [from, to). */
  playedMedia(
    clusterIds: string[],
    from: string,
    to: string,
  ): Promise<{ clusterId: string; sha256: string; level: BulletinLevel }[]>
  /** Recent error/critical device events per cluster since `since` (newest first). */
  recentFaults(
    since: string,
  ): Promise<{ clusterId: string; at: string; kind: string; message: string; severity: string }[]>
  /** Telemetry in [from, to), oldest first. */
  telemetryBetween(
    clusterId: string,
    from: string,
    to: string,
    limit: number,
  ): Promise<{ at: string; body: Record<string, unknown> }[]>
}

/** What a cluster was asked to play on one local day by one schedule (the requested-minutes ledger). */
export interface RequestedDayRow {
  clusterId: string
  /** Local date (YYYY-MM-DD) in the province's time zone. */
  day: string
  scheduleId: string
  requestedMs: number
  occurrences: number
}

export interface RequestedLedgerRepository {
  /** The ledger covers occurrences starting in [startedAt, through); null before its first close. */
  span(): Promise<{ startedAt: string; through: string } | null>
  /**
   * Adds the rows and moves `through`, in one transaction; false (and nothing written) when another close moved
   * `through` away from `expectedThrough` meanwhile, so no occurrence is ever counted twice.
   */
  close(
    rows: RequestedDayRow[],
    span: { startedAt: string; through: string },
    expectedThrough: string | null,
  ): Promise<boolean>
  /** Ledger rows of the clusters for local days fromDay..toDay (inclusive). */
  days(clusterIds: string[], fromDay: string, toDay: string): Promise<RequestedDayRow[]>
}
