import type { BulletinLevel } from '@loa/shared'

/** Bulletins, playlists and the bulletin workflow (docs/bulletins.md): unit settings, the inbox, programmes. */

export interface Bulletin {
  id: string
  title: string
  level: BulletinLevel
  mediaSha256: string
  createdAt: string
  /** Workflow fields (docs/bulletins.md); always filled by the repository, optional for in-memory inputs. */
  unitId?: string | null
  status?: BulletinStatus
  /** The text it was spoken from, when made by text-to-speech. */
  text?: string | null
  voice?: string | null
  createdBy?: string | null
  approvedBy?: string | null
  approvedAt?: string | null
}

/** A draft may not be scheduled, sent or broadcast until approved. */
export type BulletinStatus = 'draft' | 'approved'

export interface Playlist {
  id: string
  title: string
  bulletinIds: string[]
  createdAt: string
  /** The unit it belongs to (null: province-wide); always filled by the repository. */
  unitId?: string | null
}

/** Workflow settings of a unit: approval step, daily broadcast slots for accepted bulletins (local HH:MM). */
export interface UnitSettings {
  unitId: string
  requiresApproval: boolean
  slots: string[]
  updatedAt: string | null
}

/** pending: waits for the commune; accepted: in its programme; declined; alerted: played at once as an alert. */
export type DeliveryState = 'pending' | 'accepted' | 'declined' | 'alerted'

/** A bulletin sent from a unit to one unit below it (its inbox). */
export interface Delivery {
  id: string
  bulletinId: string
  fromUnitId: string
  toUnitId: string
  level: BulletinLevel
  state: DeliveryState
  note: string | null
  reason: string | null
  programmeId: string | null
  alertId: string | null
  sentBy: string
  sentAt: string
  decidedBy: string | null
  decidedAt: string | null
}

/** A unit's programme for one slot: an ordered playlist played once, on the unit's clusters, by a schedule. */
export interface Programme {
  id: string
  unitId: string
  startsAt: string
  playlistId: string
  scheduleId: string
  createdAt: string
}
