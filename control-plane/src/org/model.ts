import type { NowPlaying } from '@loa/shared'

/**
 * Records of the administrative tree and its clusters, as the API returns them (camelCase, nulls rather than missing
 * fields), and the shapes that select clusters (targets, geographic areas).
 */

export interface Unit {
  id: string
  parentId: string | null
  name: string
  /** province, commune, ward, village … — free text, the tree has no fixed levels. */
  kind: string
  code: string | null
  createdAt: string
}

export interface Station {
  id: string
  name: string
  unitId: string
  createdAt: string
}

export interface Zone {
  id: string
  name: string
}

export interface ClusterInput {
  id: string
  name: string
  unitId: string
  stationId: string | null
  zones: Zone[]
  tags: string[]
  lat: number | null
  lon: number | null
  volume: number | null
}

export interface Cluster extends ClusterInput {
  createdAt: string
  updatedAt: string
  online: boolean
  lastSeenAt: string | null
  agentVersion: string | null
  /** The control plane's current desired-state version for the device. */
  desiredVersion: number | null
  /** Reported by the device: the version fully applied / the newest received. */
  appliedVersion: number | null
  receivedVersion: number | null
  nowPlaying: NowPlaying | null
  relayOn: boolean | null
  diskFreeBytes: number | null
  cacheBytes: number | null
  mediaReady: number | null
  mediaTotal: number | null
}

export interface Targets {
  units: string[]
  clusters: string[]
  tags: string[]
}

export type LatLon = [lat: number, lon: number]

export interface Circle {
  lat: number
  lon: number
  radiusKm: number
}
