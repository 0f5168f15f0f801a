import type {
  BulletinLevel,
  CommandAckBody,
  DailyWindow,
  DesiredStateBody,
  DeviceEventBody,
  MediaRef,
  NowPlaying,
  PlayReportBody,
  Recurrence,
  ReportedStateBody,
  TelemetryBody,
} from '@loa/shared'

/** Domain records as the API returns them (camelCase, nulls rather than missing fields). */

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

export interface Loudness {
  inputI: number
  inputTp: number
  inputLra: number
  targetI: number
}

export interface Media {
  sha256: string
  size: number
  durationMs: number
  mime: string
  codec: string
  bitrateKbps: number
  loudness: Loudness
  originalName: string
  createdAt: string
}

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

export interface Targets {
  units: string[]
  clusters: string[]
  tags: string[]
}

export interface Schedule {
  id: string
  title: string
  bulletinId: string | null
  playlistId: string | null
  recurrence: Recurrence
  targets: Targets
  priority: number
  volume: number | null
  enabled: boolean
  createdAt: string
}

export interface Fallback {
  unitId: string
  bulletinIds: string[]
  windows: DailyWindow[]
  volume: number | null
  updatedAt: string
}

export interface Play extends Omit<PlayReportBody, 'reason'> {
  id: string
  clusterId: string
  reason: string | null
  receivedAt: string
}

export interface EventRecord {
  id: string
  clusterId: string | null
  at: string
  kind: string
  severity: DeviceEventBody['severity']
  message: string
  data: Record<string, unknown> | null
  /** `device` for events the device sent, `control-plane` for what the control plane noticed about it. */
  source: 'device' | 'control-plane'
  receivedAt: string
}

export interface TelemetryRecord {
  id: string
  clusterId: string
  at: string
  body: TelemetryBody
  receivedAt: string
}

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

export interface DesiredStateRecord {
  clusterId: string
  version: number
  hash: string
  body: DesiredStateBody
  /** `body` as JSON, when already serialized (stored as is). */
  json?: string
}

/** One upward message ready to be stored; `id` is the envelope id. */
export type IngestRecord =
  | { channel: 'play'; id: string; clusterId: string; receivedAt: string; body: PlayReportBody }
  | { channel: 'event'; id: string; clusterId: string; receivedAt: string; body: DeviceEventBody }
  | { channel: 'telemetry'; id: string; clusterId: string; receivedAt: string; body: TelemetryBody }
  | { channel: 'ack'; id: string; clusterId: string; receivedAt: string; body: CommandAckBody }
  | { channel: 'reported'; id: string; clusterId: string; receivedAt: string; body: ReportedStateBody }
  | { channel: 'cp-event'; id: string; clusterId: string; receivedAt: string; body: DeviceEventBody }

export type LatLon = [lat: number, lon: number]
export interface Circle {
  lat: number
  lon: number
  radiusKm: number
}

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
export type AlertStage = 'received' | 'playing' | 'done' | 'failed' | 'cancelled' | 'expired'

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

export interface PresenceChange {
  clusterId: string
  at: string
  online: boolean
}
