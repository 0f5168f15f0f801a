import { createHash } from 'node:crypto'
import { Bands, type BulletinLevel, type NowPlaying } from '@loa/shared'
import type { Report } from '../playback/item-player.js'
import type { QueuedOccurrence } from '../schedule/arbiter.js'
import type { LiveConnection } from './live-player.js'

export interface LiveInterrupt {
  kind: 'preempt' | 'withdrawn' | 'shutdown'
  reason: string
}

/** How the scheduler hands a live relay its turn at the amplifier. */
export interface LiveHooks {
  /** Plays until the turn ends; null when nothing was heard (no report). */
  play(
    q: QueuedOccurrence,
    ctl: { notBefore: number; signal: AbortSignal; interrupt: () => LiveInterrupt | null },
  ): Promise<Report | null>
  nowPlaying(): NowPlaying | null
}

/** A relay being carried out: a live (acks under `ackId`) or an occurrence of a recurring relay (ackId null). */
export interface Session {
  id: string
  scheduleId: string
  revision: number
  ackId: string | null
  title: string
  sourceUrl: string
  priority: number
  volume: number | undefined
  startsAt: number
  endsAt: number | null
  occurrence: string
  conn: LiveConnection | null
  /** `playing` is acked at most once per connection. */
  playingAcked: boolean
  turns: number
  /** Set once it is over: `done` reports the last stretch played, anything else interrupted. */
  final: { stage: 'done' | 'cancelled' | 'replaced'; reason: string } | null
  abort: AbortController
}

export const sourceSha256 = (url: string) => createHash('sha256').update(url, 'utf8').digest('hex')

export const levelOf = (priority: number): BulletinLevel =>
  priority >= Bands.emergency ? 'emergency' : priority >= Bands.priority ? 'priority' : 'normal'
