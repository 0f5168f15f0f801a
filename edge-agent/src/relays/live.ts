import type { DesiredStateBody, LiveSpec, NowPlaying } from '@loa/shared'
import type { Logger } from 'pino'
import { type Clock, sleepUntil, systemClock } from '../clock/clock.js'
import type { Outbox } from '../link/outbox.js'
import type { AudioOutput } from '../playback/audio-output.js'
import { iso, type Report } from '../playback/item-player.js'
import type { QueuedOccurrence } from '../schedule/arbiter.js'
import type { Db } from '../storage/db.js'
import { LiveNotes } from './live-notes.js'
import type { LiveTimeouts } from './live-player.js'
import { type LiveHooks, type LiveInterrupt, levelOf, type Session, sourceSha256 } from './live-session.js'
import { keepConnected } from './live-source.js'
import { type LiveState, LiveStore } from './live-store.js'
import { relaysOnAt } from './recurring.js'

export interface LiveManagerOptions {
  db: Db
  outbox: Outbox
  log: Logger
  output: AudioOutput
  enqueue: (q: QueuedOccurrence) => void
  withdraw: (liveId: string, reason: string) => void
  desired: () => DesiredStateBody | null
  defaultTimezone: string
  /** The device volume, for relays that name none. */
  volume: () => number
  checkMs?: number
  /** A live started by command is not stopped for missing from a desired state before this (default 60 s). */
  desiredGraceMs?: number
  /** Reconnection backoff: doubles from base to max. */
  retryBaseMs?: number
  retryMaxMs?: number
  timeouts?: Partial<LiveTimeouts>
  /** Relays start and stop by `now()`; one received is expired only past its lower bound (clock/clock.ts). */
  clock?: Clock
}

/**
 * Live relays (tiếp sóng): from `live-start` commands and the desired state's `lives` (de-duplicated by liveId +
 * revision, persisted in table `lives`), and the occurrences of recurring `relays`. Each is connected in the
 * background and queued at its band only while audio flows, so a dead source never holds the amplifier: the
 * schedule and fallback go on, and the source is retried with exponential backoff until the relay ends.
 */
export class LiveManager implements LiveHooks {
  private readonly sessions = new Map<string, Session>()
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  private np: NowPlaying | null = null
  private readonly timeouts: LiveTimeouts

  private readonly store: LiveStore
  private readonly clock: Clock
  private readonly notes: LiveNotes

  constructor(private readonly o: LiveManagerOptions) {
    this.store = new LiveStore(o.db)
    this.clock = o.clock ?? systemClock
    this.timeouts = { connectMs: 8000, stallMs: 5000, ...o.timeouts }
    this.notes = new LiveNotes(o.outbox, this.clock)
  }

  nowPlaying(): NowPlaying | null {
    return this.np
  }

  /** Rejoins the relays active before a restart; then checks ends and recurring relays periodically. */
  start(): void {
    for (const spec of this.store.restore()) this.begin(spec)
    this.timer = setInterval(() => this.check(), this.o.checkMs ?? 500)
    this.timer.unref()
    this.check()
  }

  /** Shutdown: connections closed, states kept (a restart rejoins). */
  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    for (const s of this.sessions.values()) {
      s.abort.abort()
      s.conn?.close('shutdown')
    }
    this.sessions.clear()
  }

  /** The lives of a desired state (a device connecting late joins them). */
  sync(d: DesiredStateBody): void {
    for (const l of d.lives ?? []) this.receive(l, 'desired', undefined, d.version)
  }

  /**
   * A newer desired state that no longer lists a live held since an older one: it was stopped or ended while the
   * device was away (the `live-stop` missed), so it stops here too, or an open-ended relay would play forever.
   */
  reconcile(d: DesiredStateBody): void {
    const listed = new Set((d.lives ?? []).map((l) => l.liveId))
    // The control plane publishes live-start before it stores the relay: a state built meanwhile may lack a relay
    // that has just started, so one that came by command is only stopped so once it is older than the grace.
    const held = this.store.heldBefore(d.version, this.clock.now() - (this.o.desiredGraceMs ?? 60_000))
    for (const id of held) if (!listed.has(id)) this.stopLive(id, `desired state v${d.version}`)
  }

  /** A live from a command or the desired state. Past the command's `deadline` or `endsAt`, it never starts. */
  receive(spec: LiveSpec, via: string, deadline?: string, version?: number): 'new' | 'duplicate' | 'stale' {
    const held = this.store.row(spec.liveId)
    if (held && spec.revision <= held.revision) return 'duplicate'
    const now = this.clock.now()
    const past = this.clock.lowerBound()
    const replacing = held?.state === 'active' ? held : undefined
    const expired = spec.endsAt !== null && Date.parse(spec.endsAt) <= past
    if (!expired && deadline !== undefined && Date.parse(deadline) < past) {
      // A stale command (delayed or replayed) is not carried out, but the live may still be on (an open-ended one
      // outlives its command's deadline): nothing is stored, so its copy in desired.lives can still be joined.
      this.o.outbox.event('command-rejected', 'info', `live-start for ${spec.liveId} after its deadline`, {
        liveId: spec.liveId,
        kind: 'live-start',
        reason: 'expired',
        deadline,
        via,
      })
      return 'stale'
    }
    // A stop is final, like a CAP Cancel: a later revision of a stopped live is never played.
    const cancelled = held?.state === 'cancelled'
    const state: LiveState = cancelled ? 'cancelled' : expired ? 'expired' : 'active'
    this.o.db.transaction(() => {
      this.store.put(spec, state, now, version ?? this.o.desired()?.version ?? 0, version !== undefined)
      if (replacing && replacing.ack_id !== spec.ackId) {
        this.notes.ack(replacing.ack_id, 'cancelled', `replaced by revision ${spec.revision}`)
      }
      this.o.outbox.event('live-received', 'info', `live ${spec.liveId} r${spec.revision} received`, {
        liveId: spec.liveId,
        revision: spec.revision,
        priority: spec.priority,
        sourceUrl: spec.sourceUrl,
        via,
      })
      if (cancelled) this.notes.ack(spec.ackId, 'cancelled', 'live was stopped')
      else if (expired) this.notes.ack(spec.ackId, 'expired')
      else this.notes.ack(spec.ackId, 'received')
    })()
    const old = this.sessions.get(spec.liveId)
    if (old) this.end(old, 'replaced', `replaced by revision ${spec.revision}`)
    if (state === 'active') this.begin(spec)
    this.o.log.info({ liveId: spec.liveId, revision: spec.revision, state, via }, 'live received')
    return 'new'
  }

  /** `live-stop`: stops it if on, never starts it. An unknown id is remembered as stopped. */
  stopLive(liveId: string, via: string): void {
    const held = this.store.row(liveId)
    this.o.db.transaction(() => {
      if (!held) this.store.rememberStopped(liveId, `stopped via ${via}`)
      else if (held.state === 'active') {
        this.store.setState(liveId, 'cancelled', `stopped via ${via}`)
        this.notes.ack(held.ack_id, 'cancelled')
      }
    })()
    const s = this.sessions.get(liveId)
    if (s) this.end(s, 'cancelled', 'stopped')
  }

  private begin(spec: LiveSpec): void {
    this.launch({
      id: spec.liveId,
      scheduleId: spec.liveId,
      revision: spec.revision,
      ackId: spec.ackId,
      title: spec.title,
      sourceUrl: spec.sourceUrl,
      priority: spec.priority,
      volume: spec.volume,
      startsAt: Date.parse(spec.startsAt),
      endsAt: spec.endsAt === null ? null : Date.parse(spec.endsAt),
      occurrence: spec.startsAt,
    })
  }

  private launch(fields: Omit<Session, 'conn' | 'playingAcked' | 'turns' | 'final' | 'abort'>): void {
    if (this.stopped) return
    const s: Session = {
      ...fields,
      conn: null,
      playingAcked: false,
      turns: 0,
      final: null,
      abort: new AbortController(),
    }
    this.sessions.set(s.id, s)
    void this.run(s).catch((err) => this.o.log.error({ err, liveId: s.id }, 'live loop failed'))
  }

  /** Over (`done` at its end, `cancelled` by a stop, `replaced`): reported, connection closed, turn withdrawn. */
  private end(s: Session, stage: 'done' | 'cancelled' | 'replaced', reason: string): void {
    if (s.final) return
    s.final = { stage, reason }
    this.sessions.delete(s.id)
    if (stage === 'done' && s.ackId) {
      this.o.db.transaction(() => {
        this.store.setState(s.id, 'done', null)
        this.notes.ack(s.ackId, 'done')
      })()
    }
    this.notes.event(s, 'live-ended', 'info', `live ${s.scheduleId} ended: ${reason}`, { reason: stage })
    s.abort.abort()
    s.conn?.close(reason)
    this.o.withdraw(s.id, reason)
  }

  /** Ends relays past their end; starts the occurrences of recurring relays that are on and not yet running. */
  private check(): void {
    if (this.stopped) return
    const now = this.clock.now()
    // A live sent by the province ends once its end has certainly passed (a clock that may be ahead does not cut
    // it short); an occurrence of a recurring relay ends by the clock that started it.
    const past = this.clock.lowerBound()
    for (const s of [...this.sessions.values()]) {
      if (s.endsAt !== null && s.endsAt <= (s.ackId ? past : now)) this.end(s, 'done', 'ended')
    }
    const d = this.o.desired()
    const on = relaysOnAt(d, d?.timezone ?? this.o.defaultTimezone, now, this.o.log)
    const ids = new Set(on.map((r) => r.id))
    for (const s of [...this.sessions.values()]) {
      // A recurring relay removed from the desired state stops.
      if (s.ackId === null && !ids.has(s.id)) this.end(s, 'cancelled', 'removed from the schedule')
    }
    for (const r of on) {
      if (this.sessions.has(r.id) || r.endsAt.getTime() <= now) continue
      this.launch({
        id: r.id,
        scheduleId: r.entry.id,
        revision: 0,
        ackId: null,
        title: r.entry.title,
        sourceUrl: r.entry.sourceUrl,
        priority: r.entry.priority,
        volume: r.entry.volume,
        startsAt: r.at.getTime(),
        endsAt: r.endsAt.getTime(),
        occurrence: r.at.toISOString(),
      })
    }
  }

  /** Connects, queues a turn while audio flows, and reconnects with backoff until the relay is over. */
  private run(s: Session): Promise<void> {
    return keepConnected(s, {
      db: this.o.db,
      clock: this.clock,
      output: this.o.output,
      timeouts: this.timeouts,
      notes: this.notes,
      retryBaseMs: this.o.retryBaseMs,
      retryMaxMs: this.o.retryMaxMs,
      connected: (c) => this.queueTurn(c),
      withdraw: (id, reason) => this.o.withdraw(id, reason),
    })
  }

  private queueTurn(s: Session): void {
    if (s.final || this.stopped) return
    this.o.enqueue({
      key: `live:${s.id}#${s.revision}~${++s.turns}`,
      scheduleId: s.scheduleId,
      title: s.title,
      level: levelOf(s.priority),
      priority: s.priority,
      at: iso(this.clock.now()),
      items: [],
      volume: s.volume ?? this.o.volume(),
      live: { liveId: s.id },
    })
  }

  async play(
    q: QueuedOccurrence,
    ctl: { notBefore: number; signal: AbortSignal; interrupt: () => LiveInterrupt | null },
  ): Promise<Report | null> {
    const s = q.live ? this.sessions.get(q.live.liveId) : undefined
    const conn = s?.conn
    if (!s || !conn || conn.closed || s.final) return null
    await sleepUntil(this.clock, ctl.notBefore, ctl.signal)
    if (ctl.signal.aborted || conn.closed) {
      if (ctl.interrupt()?.kind === 'preempt') this.queueTurn(s)
      return null
    }
    const startedAt = this.clock.now()
    const startMono = this.clock.mono()
    const sha256 = sourceSha256(s.sourceUrl)
    this.np = { scheduleId: s.scheduleId, title: s.title, sha256, startedAt: iso(startedAt), fallback: false }
    const label = `${iso(startedAt).replace(/[:.]/g, '-')}-live-${s.scheduleId}`
    const output = conn.attach(q.volume / 100, label)
    this.o.db.transaction(() => {
      this.notes.event(s, 'live-playing', 'info', `live ${s.scheduleId} playing`)
      if (!s.playingAcked) this.notes.ack(s.ackId, 'playing')
    })()
    s.playingAcked = true
    const aborted = new Promise<'abort'>((r) => {
      if (ctl.signal.aborted) r('abort')
      ctl.signal.addEventListener('abort', () => r('abort'), { once: true })
    })
    const how = await Promise.race([
      aborted,
      conn.whenClosed().then((reason) => ({ dropped: reason })),
      output.then((error) => ({ error })),
    ])
    conn.detach()
    this.np = null
    // Monotonic: a clock stepped back during the relay gives neither a negative duration nor an end before the start.
    const durationMs = Math.max(0, Math.round(this.clock.mono() - startMono))
    const endedAt = startedAt + durationMs
    let status: Report['status'] = 'interrupted'
    let reason: string | undefined
    // Set meanwhile by end() (TypeScript still narrows it to null from the check above).
    const final = s.final as Session['final']
    if (final) {
      if (final.stage === 'done') status = 'played'
      else reason = final.reason
    } else if (how === 'abort') {
      const int = ctl.interrupt()
      reason = int?.reason ?? 'interrupted'
      // Preempted: the connection stays open, and its next turn waits in the queue behind the preemptor.
      if (int?.kind === 'preempt' && !conn.closed) this.queueTurn(s)
    } else if ('dropped' in how) reason = `dropped: ${how.dropped}`
    else {
      status = 'failed'
      reason = `output failed: ${how.error ?? 'ffmpeg exited'}`
      this.o.outbox.event('player-error', 'error', reason.slice(0, 2000), {
        code: 'LOA_LIVE_OUTPUT',
        liveId: s.scheduleId,
      })
      // Reconnect with backoff rather than start a failing output in a tight loop.
      conn.close(reason)
    }
    return {
      scheduleId: s.scheduleId,
      title: s.title,
      sha256,
      level: levelOf(s.priority),
      priority: s.priority,
      fallback: false,
      occurrence: s.occurrence,
      status,
      ...(reason ? { reason: reason.slice(0, 1000) } : {}),
      startedAt: iso(startedAt),
      endedAt: iso(endedAt),
      durationMs,
    }
  }
}
