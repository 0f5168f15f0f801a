/**
 * The API shapes the content pages read (media, bulletins, schedules, lives, alerts; docs/api.md): the control
 * plane's own types, imported as types only (nothing of the server reaches the bundle), extended where a route
 * answers with more than the stored record.
 */
import type {
  AlertCounts,
  CalendarConflict,
  CalendarOccurrence,
  ProgrammeView,
  Delivery as StoredDelivery,
  Live as StoredLive,
  Media as StoredMedia,
} from '@loa/control-plane'
import type { BulletinLevel } from '@loa/shared'

export type { Bulletin, CalendarConflict, CalendarOccurrence as Occurrence, Voice } from '@loa/control-plane'
export type { BulletinLevel, Recurrence } from '@loa/shared'
export type { Cluster, Play, Schedule, Unit } from '../types'

/** A stored media file; an upload also says whether the same file was already there. */
export interface Media extends StoredMedia {
  deduplicated?: boolean
}

/** What a form sends as targets: each list optional (the stored Targets has all three). */
export interface Targets {
  units?: string[]
  clusters?: string[]
  tags?: string[]
}

export type AckCounts = AlertCounts

/** The stages the console shows, in order: the keys of the ack counts but `targeted`. */
export const ACK_STAGES = [
  'pending',
  'received',
  'playing',
  'done',
  'failed',
  'cancelled',
  'expired',
] as const satisfies readonly Exclude<keyof AckCounts, 'targeted'>[]
export type AckStage = (typeof ACK_STAGES)[number]

/** A live relay as listed: with its ack counts, and the number of clusters it reached when started. */
export interface Live extends StoredLive {
  targetCount?: number
  counts?: AckCounts
}

/** An inbox entry: the delivery with the bulletin it carries (null once that was deleted). */
export interface Delivery extends StoredDelivery {
  bulletin: {
    id: string
    title: string
    level: BulletinLevel
    mediaSha256: string
    durationMs: number
    text: string | null
  } | null
}

/** A programme with its items (bulletins/programmes.ts, programmeView). */
export type Programme = ProgrammeView

/** GET /api/calendar. */
export interface CalendarView {
  timezone: string
  from: string
  to: string
  clusterCount: number
  occurrences: CalendarOccurrence[]
  conflicts: CalendarConflict[]
}
