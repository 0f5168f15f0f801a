import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import type { NowPlaying } from '@loa/shared'
import type { Logger } from 'pino'
import { type Clock, sleepUntil, systemClock } from '../clock/clock.js'
import { AgentError, describeError } from '../errors.js'
import type { BoxControls } from '../hardware/box-controls.js'
import type { Outbox } from '../link/outbox.js'
import { iso, type Report, sleep } from '../playback/item-player.js'
import type { Player } from '../playback/player.js'
import type { LiveHooks, LiveInterrupt } from '../relays/live-session.js'
import { levelOf } from '../relays/live-session.js'
import type { QueuedOccurrence } from '../schedule/arbiter.js'

/** Queue keys of local plays; the scheduler hands their turn back to LocalPlays (see `isLocal`). */
const PREFIX = 'local:'
const KEEP = 50
/** Local actions waiting or running at once: more is a stuck button or a script, and each may hold a file. */
export const MAX_PENDING = 10
/** The zone of an announcement: every zone at once. */
export const ALL_ZONES = '*'

/** `relay` (a contract of the page and of events) is the amplifier switch held on by hand. */
export type LocalKind = 'tone' | 'relay' | 'announcement'
export type LocalStatus = 'queued' | 'playing' | 'done' | 'failed' | 'preempted' | 'cancelled' | 'expired'

/** One action at the box (a tone test, the amplifier held on, an announcement), as the page and the province see it. */
export interface LocalAction {
  id: string
  kind: LocalKind
  zone: string
  /** `technician`, or `province` for a test command (with its command id). */
  by: string
  commandId?: string
  title: string
  priority: number
  requestedAt: string
  startedAt: string | null
  endedAt: string | null
  status: LocalStatus
  reason?: string
  /** How long it holds the amplifier on (tone length, hold time, announcement length). */
  seconds: number
}

export interface LocalRequest
  extends Pick<LocalAction, 'kind' | 'zone' | 'by' | 'commandId' | 'title' | 'priority' | 'seconds'> {
  /** Audio to play (tone, announcement); none for a hold of the amplifier. */
  audio?: { path: string; sha256: string; deleteAfter?: boolean }
  /** Not started by then (a higher band holds the amplifier): given up as expired. */
  startWithinMs?: number
  /** Several requested together keep their order (equal bands play earliest first). */
  orderMs?: number
}

interface Pending {
  action: LocalAction
  req: LocalRequest
  done: (a: LocalAction) => void
  startTimer: NodeJS.Timeout | null
  onStart: (() => void) | null
}

const terminal = (s: LocalStatus) => s !== 'queued' && s !== 'playing'

/**
 * Plays what is started at the box itself — zone tests (local or ordered by the province), the amplifier held on by the
 * technician, local announcements — through the scheduler's arbiter like everything else: each is queued as an
 * occurrence at its band, and the scheduler hands it the amplifier on its turn (the same hook as live relays,
 * since the audio is not in the media cache). A higher band preempts it; it never resumes (the technician or the
 * province repeats it). Each outcome is an event through the outbox; audible plays are also play reports.
 */
export class LocalPlays implements Pick<LiveHooks, 'play'> {
  private readonly pending = new Map<string, Pending>()
  private readonly recentList: LocalAction[] = []
  private np: NowPlaying | null = null

  constructor(
    private readonly o: {
      outbox: Outbox
      log: Logger
      player: Player
      controls: () => BoxControls
      enqueue: (q: QueuedOccurrence) => void
      withdraw: (liveId: string, reason: string) => void
      volume: () => number
      clock?: Clock
    },
  ) {}

  private get clock(): Clock {
    return this.o.clock ?? systemClock
  }

  static isLocal(q: QueuedOccurrence): boolean {
    return q.live?.liveId.startsWith(PREFIX) ?? false
  }

  /** Whether a new action would be refused (MAX_PENDING waiting or running). */
  get busy(): boolean {
    return this.pending.size >= MAX_PENDING
  }

  nowPlaying(): NowPlaying | null {
    return this.np
  }

  /** The last actions, newest first (for the technician's page). */
  recent(): LocalAction[] {
    return [...this.recentList]
  }

  get(id: string): LocalAction | undefined {
    return this.recentList.find((a) => a.id === id)
  }

  /** Queues one action; `done` settles when it is over, whatever the outcome (never rejects). */
  request(req: LocalRequest, onStart?: () => void): { action: LocalAction; done: Promise<LocalAction> } {
    if (this.busy) {
      throw new AgentError('LOA_LOCAL_BUSY', [`${this.pending.size} local actions are waiting or running`])
    }
    const id = `local-${randomUUID().slice(0, 8)}`
    const now = this.clock.now()
    const action: LocalAction = {
      id,
      kind: req.kind,
      zone: req.zone,
      by: req.by,
      ...(req.commandId ? { commandId: req.commandId } : {}),
      title: req.title,
      priority: req.priority,
      requestedAt: iso(now),
      startedAt: null,
      endedAt: null,
      status: 'queued',
      seconds: req.seconds,
    }
    this.recentList.unshift(action)
    this.recentList.length = Math.min(this.recentList.length, KEEP)
    let done: (a: LocalAction) => void = () => {}
    const promise = new Promise<LocalAction>((r) => {
      done = r
    })
    const p: Pending = { action, req, done, startTimer: null, onStart: onStart ?? null }
    this.pending.set(id, p)
    const startWithin = req.startWithinMs ?? 10 * 60_000
    p.startTimer = setTimeout(() => {
      if (action.status !== 'queued') return
      this.o.withdraw(PREFIX + id, 'expired')
      this.finish(
        p,
        'expired',
        `not started within ${Math.round(startWithin / 1000)} s (the amplifier was busy with an equal or higher band)`,
      )
    }, startWithin)
    p.startTimer.unref()
    this.o.enqueue({
      key: PREFIX + id,
      scheduleId: id,
      title: req.title,
      level: levelOf(req.priority),
      priority: req.priority,
      at: iso(now + (req.orderMs ?? 0)),
      items: [],
      volume: this.o.volume(),
      live: { liveId: PREFIX + id },
    })
    this.o.log.info({ id, kind: req.kind, zone: req.zone, by: req.by }, 'local action queued')
    return { action, done: promise }
  }

  /** Stops an action (queued or playing), e.g. the technician switching a held amplifier off early. */
  cancel(id: string, reason: string): boolean {
    const p = this.pending.get(id)
    if (!p) return false
    this.o.withdraw(PREFIX + id, reason)
    // Queued: the scheduler will never hand it a turn, so it ends here. Playing: play() ends it.
    if (p.action.status === 'queued') this.finish(p, 'cancelled', reason)
    return true
  }

  /** Stops everything local (shutdown): nothing is left waiting. */
  stop(): void {
    for (const p of [...this.pending.values()]) {
      if (p.action.status === 'queued') this.finish(p, 'cancelled', 'shutdown')
    }
  }

  private finish(p: Pending, status: LocalStatus, reason?: string): void {
    if (terminal(p.action.status)) return
    const a = p.action
    a.status = status
    a.endedAt = iso(this.clock.now())
    if (reason) a.reason = reason.slice(0, 500)
    if (p.startTimer) clearTimeout(p.startTimer)
    this.pending.delete(a.id)
    if (p.req.audio?.deleteAfter) rmSync(p.req.audio.path, { force: true })
    const severity = status === 'failed' ? 'warning' : 'info'
    this.o.outbox.event('local-action', severity, `${a.kind} ${a.zone} by ${a.by}: ${status}`, {
      id: a.id,
      kind: a.kind,
      zone: a.zone,
      by: a.by,
      ...(a.commandId ? { commandId: a.commandId } : {}),
      outcome: status,
      ...(a.reason ? { reason: a.reason } : {}),
      requestedAt: a.requestedAt,
      startedAt: a.startedAt,
      endedAt: a.endedAt,
    })
    this.o.log.info({ id: a.id, kind: a.kind, status, reason }, 'local action over')
    p.done(a)
  }

  private static outcome(int: LiveInterrupt | null): { status: LocalStatus; reason: string } {
    if (int?.kind === 'preempt') return { status: 'preempted', reason: int.reason }
    if (int?.kind === 'shutdown') return { status: 'cancelled', reason: 'shutdown' }
    return { status: 'cancelled', reason: int?.reason ?? 'cancelled' }
  }

  /** The scheduler's hook: the amplifier is ours until this returns. */
  async play(
    q: QueuedOccurrence,
    ctl: { notBefore: number; signal: AbortSignal; interrupt: () => LiveInterrupt | null },
  ): Promise<Report | null> {
    const id = q.live?.liveId.slice(PREFIX.length) ?? ''
    const p = this.pending.get(id)
    if (p?.action.status !== 'queued') return null
    const controls = this.o.controls()
    // The scheduler's session switched every zone on. A test or a hold of one zone is heard on that zone only:
    // the others go off for this turn (before the pre-roll) and are put back as they were when it ends, since a
    // turn that follows in the same session needs them (so they are on again for the post-roll).
    const restore: { zone: string; on: boolean }[] = []
    try {
      for (const z of controls.zones()) {
        const want = p.action.zone === ALL_ZONES || z.id === p.action.zone
        if (z.relayOn === want) continue
        await controls.setAmpSwitch(z.id, want)
        restore.push({ zone: z.id, on: z.relayOn })
      }
      return await this.turn(p, q, ctl)
    } catch (err) {
      const { code, details } = describeError(err)
      this.finish(p, 'failed', `${code}: ${details.join('; ')}`)
      return null
    } finally {
      for (const r of restore) await controls.setAmpSwitch(r.zone, r.on).catch(() => {})
    }
  }

  private async turn(
    p: Pending,
    q: QueuedOccurrence,
    ctl: { notBefore: number; signal: AbortSignal; interrupt: () => LiveInterrupt | null },
  ): Promise<Report | null> {
    await sleepUntil(this.clock, ctl.notBefore, ctl.signal)
    if (ctl.signal.aborted) {
      const o = LocalPlays.outcome(ctl.interrupt())
      this.finish(p, o.status, o.reason)
      return null
    }
    const a = p.action
    const startedAt = this.clock.now()
    const startMono = this.clock.mono()
    a.status = 'playing'
    a.startedAt = iso(startedAt)
    if (p.startTimer) clearTimeout(p.startTimer)
    p.onStart?.()
    let failure: string | null = null
    try {
      const audio = p.req.audio
      if (audio) {
        this.np = {
          scheduleId: a.id,
          title: a.title,
          sha256: audio.sha256,
          startedAt: a.startedAt,
          fallback: false,
        }
        const label = `${a.startedAt.replace(/[:.]/g, '-')}-${a.id}`
        const maxMs = a.seconds * 2000 + 30_000
        const r = await this.o.player.play(audio.path, q.volume / 100, label, ctl.signal, maxMs)
        if (r.outcome === 'failed') failure = r.error ?? 'ffmpeg failed'
      } else await sleep(a.seconds * 1000, ctl.signal)
    } catch (err) {
      const { code, details } = describeError(err)
      failure = `${code}: ${details.join('; ')}`
    } finally {
      this.np = null
    }
    const durationMs = Math.max(0, Math.round(this.clock.mono() - startMono))
    const endedAt = startedAt + durationMs
    let status: LocalStatus = 'done'
    let reason: string | undefined
    if (failure) {
      status = 'failed'
      reason = failure
    } else if (ctl.signal.aborted) ({ status, reason } = LocalPlays.outcome(ctl.interrupt()))
    this.finish(p, status, reason)
    const audio = p.req.audio
    if (!audio) return null
    return {
      scheduleId: a.id,
      title: a.title,
      sha256: audio.sha256,
      level: q.level,
      priority: q.priority,
      fallback: false,
      occurrence: q.at,
      status: status === 'done' ? 'played' : status === 'failed' ? 'failed' : 'interrupted',
      ...(reason ? { reason: reason.slice(0, 1000) } : {}),
      startedAt: iso(startedAt),
      endedAt: iso(endedAt),
      durationMs,
    }
  }
}
