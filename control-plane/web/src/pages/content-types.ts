/** The API shapes the content pages read (media, bulletins, schedules, lives, alerts); see docs/api.md. */
export type BulletinLevel = 'normal' | 'priority' | 'emergency'

export interface Media {
  sha256: string
  size: number
  durationMs: number
  mime: string
  codec: string
  bitrateKbps: number
  loudness: { inputI: number; inputTp: number; inputLra: number; targetI: number }
  originalName: string
  createdAt: string
  deduplicated?: boolean
}

export interface Bulletin {
  id: string
  title: string
  level: BulletinLevel
  mediaSha256: string
  createdAt: string
  /** Present once the approval workflow is on the server: draft bulletins are not broadcast. */
  status?: 'draft' | 'approved' | string
  unitId?: string | null
  /** The user who made it: they may not approve it themselves (four eyes). */
  createdBy?: string | null
}

export interface Unit {
  id: string
  parentId: string | null
  name: string
  kind: string
}

export interface Cluster {
  id: string
  name: string
  unitId: string
  online: boolean
}

export interface Targets {
  units?: string[]
  clusters?: string[]
  tags?: string[]
}

export type Recurrence =
  | { kind: 'once'; at: string }
  | { kind: 'weekly'; daysOfWeek: number[]; times: string[]; startDate: string; endDate?: string }
  | {
      kind: 'interval'
      daysOfWeek: number[]
      everyMinutes: number
      from: string
      until: string
      startDate: string
      endDate?: string
    }

export interface Schedule {
  id: string
  title: string
  bulletinId: string | null
  playlistId: string | null
  recurrence: Recurrence
  targets: Required<Targets>
  priority: number
  enabled: boolean
}

export interface AckCounts {
  targeted: number
  received: number
  playing: number
  done: number
  failed: number
  cancelled: number
  expired: number
  pending: number
}

export const ACK_STAGES = [
  'pending',
  'received',
  'playing',
  'done',
  'failed',
  'cancelled',
  'expired',
] as const
export type AckStage = (typeof ACK_STAGES)[number]

export interface Play {
  id: string
  clusterId: string
  scheduleId: string | null
  title: string
  status: 'played' | 'failed' | 'skipped' | 'interrupted'
  startedAt: string | null
  receivedAt: string
}

export interface Live {
  id: string
  title: string
  sourceUrl: string
  state: 'active' | 'stopped' | 'ended'
  startsAt: string
  endsAt: string | null
  targetCount?: number
  counts?: AckCounts
}

export interface Voice {
  /** `engine:voice` */
  id: string
  engine: string
  name: string
  region: 'north' | 'central' | 'south' | null
  default: boolean
}

export interface Delivery {
  id: string
  bulletinId: string
  fromUnitId: string
  toUnitId: string
  level: BulletinLevel
  state: 'pending' | 'accepted' | 'declined' | 'alerted'
  note: string | null
  reason: string | null
  programmeId: string | null
  alertId: string | null
  sentAt: string
  decidedAt: string | null
  bulletin: {
    id: string
    title: string
    level: BulletinLevel
    mediaSha256: string
    durationMs: number
  } | null
}

export interface Programme {
  id: string
  unitId: string
  startsAt: string
  playlistId: string
  scheduleId: string
  title: string
  items: { bulletinId: string; title: string; level: BulletinLevel; durationMs: number }[]
}

export interface Occurrence {
  /** `scheduleId@start` */
  key: string
  kind: 'schedule' | 'relay'
  id: string
  title: string
  level: BulletinLevel
  priority: number
  start: string
  end: string
  durationMs: number
  recurrence: 'once' | 'weekly' | 'interval'
  clusterIds: string[]
  conflict: boolean
}

export interface CalendarConflict {
  a: string
  b: string
  winner: string
  reason: string
  clusterIds: string[]
}

export interface CalendarView {
  timezone: string
  from: string
  to: string
  clusterCount: number
  occurrences: Occurrence[]
  conflicts: CalendarConflict[]
}
