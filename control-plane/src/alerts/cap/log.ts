import type { CapKey } from './parse.js'

/**
 * What a CAP message did (docs/alerts.md): made, changed or ended an alert, arrived expired, arrived after a newer
 * message of its chain, or (a Cancel) named messages not received yet.
 */
export type CapOutcome = 'raised' | 'updated' | 'cancelled' | 'expired' | 'superseded' | 'remembered'

/** One accepted CAP message. */
export interface CapLogEntry extends CapKey {
  status: string
  msgType: string
  /** The Loa alert of its chain; null when none was made. */
  alertId: string | null
  outcome: CapOutcome
  receivedAt: string
}

/** A message named by a Cancel (received or not), and the newest Cancel that named it. */
export interface CapCancellation extends CapKey {
  status: string
  by: CapKey
}

/** The durable memory of CAP ingest (SQLite: cap_log, cap_cancelled; migration 9). */
export interface CapLogRepository {
  get(sender: string, identifier: string): Promise<CapLogEntry | null>
  /** The newest message (by sent) of the chain mapped to this alert. */
  newest(alertId: string): Promise<CapLogEntry | null>
  /** `sent` of the newest Cancel that ended the chain mapped to this alert; null if none did. */
  cancelledAt(alertId: string): Promise<string | null>
  cancellation(sender: string, identifier: string, status: string): Promise<CapCancellation | null>
  /**
   * Records a message and what it cancelled, in one transaction; with `chainOf`, the messages of that alert's chain
   * now map to the entry's alert (an Update that raised a new alert in place of an old one).
   */
  record(entry: CapLogEntry, cancellations: CapCancellation[], chainOf?: string): Promise<void>
}
