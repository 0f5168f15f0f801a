import { type Clock, sleepUntil } from '../clock/clock.js'
import type { AudioOutput } from '../playback/audio-output.js'
import { sleep } from '../playback/item-player.js'
import type { Db } from '../storage/db.js'
import type { LiveNotes } from './live-notes.js'
import { LiveConnection, type LiveTimeouts } from './live-player.js'
import type { Session } from './live-session.js'

export interface LiveSourceOptions {
  db: Db
  clock: Clock
  output: AudioOutput
  timeouts: LiveTimeouts
  notes: LiveNotes
  /** Reconnection backoff: doubles from base (default 1 s) to max (default 30 s). */
  retryBaseMs?: number
  retryMaxMs?: number
  /** Audio flows: queue a turn at the amplifier. */
  connected: (s: Session) => void
  /** The connection dropped: its turn is withdrawn. */
  withdraw: (liveId: string, reason: string) => void
}

/**
 * From the session's start until it is aborted: connects to the source, queues a turn while audio flows, and
 * reconnects with exponential backoff when it cannot connect or drops.
 */
export async function keepConnected(s: Session, o: LiveSourceOptions): Promise<void> {
  const base = o.retryBaseMs ?? 1000
  let backoff = base
  // Failed attempts in a row: `failed` is acked once per outage, and a source dead for hours reports every
  // tenth attempt only, so the outbox (never pruned of events and acks) stays small.
  let failures = 0
  const loud = () => failures <= 10 || failures % 10 === 0
  await sleepUntil(o.clock, s.startsAt, s.abort.signal)
  while (!s.abort.signal.aborted) {
    if (loud()) o.notes.event(s, 'live-connecting', 'info', `live ${s.scheduleId} connecting`)
    const conn = new LiveConnection(s.sourceUrl, o.output, o.timeouts)
    s.conn = conn
    s.playingAcked = false
    if (s.abort.signal.aborted) conn.close('stopped')
    const opened = await conn.ready.then(
      () => null,
      (err: Error) => err.message,
    )
    if (s.abort.signal.aborted) break
    if (opened === null) {
      backoff = base
      failures = 0
      o.connected(s)
      const reason = await conn.whenClosed()
      if (s.abort.signal.aborted) break
      o.withdraw(s.id, `dropped: ${reason}`)
      failures = 1
      o.db.transaction(() => {
        o.notes.event(s, 'live-dropped', 'warning', `live ${s.scheduleId} dropped: ${reason}`, {
          code: 'LOA_LIVE_DROPPED',
          reason,
        })
        o.notes.ack(s.ackId, 'failed', `dropped: ${reason}`)
      })()
    } else {
      failures++
      o.db.transaction(() => {
        if (loud()) {
          o.notes.event(s, 'live-dropped', 'warning', `live ${s.scheduleId} cannot connect: ${opened}`, {
            code: 'LOA_LIVE_CONNECT',
            reason: opened,
            attempts: failures,
            retryInMs: backoff,
          })
        }
        if (failures === 1) o.notes.ack(s.ackId, 'failed', `cannot connect: ${opened}`)
      })()
    }
    await sleep(backoff, s.abort.signal)
    backoff = Math.min(backoff * 2, o.retryMaxMs ?? 30_000)
  }
  s.conn?.close('stopped')
}
