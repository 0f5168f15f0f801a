import type { BulletinLevel, MediaRef } from '@loa/shared'
import type { Circle, LatLon } from '../org/model.js'

/** Alerts and what they target. */

/** What an alert targets; a cluster matches if any part matches (unit subtrees, ids, tags, area by GPS). */
export interface AlertTargets {
  units: string[]
  clusters: string[]
  tags: string[]
  /** Closed rings of [lat, lon] and circles, matched against cluster positions. */
  polygons: LatLon[][]
  circles: Circle[]
}

export type AlertState = 'active' | 'cancelled' | 'expired'

export interface Alert {
  id: string
  revision: number
  ackId: string
  title: string
  level: BulletinLevel
  priority: number
  items: MediaRef[]
  repeat: number
  startsAt: string
  expiresAt: string
  audible: boolean
  volume: number | null
  state: AlertState
  targets: AlertTargets
  source: 'api' | 'cap'
  createdAt: string
  updatedAt: string
}
