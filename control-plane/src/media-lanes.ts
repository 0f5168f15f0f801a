import { Gauge, type Registry } from 'prom-client'
import type { Actor } from './actor.js'
import type { MediaLimitsConfig } from './config-media.js'
import { LoaError } from './errors.js'

/**
 * Media work (ffmpeg, speech synthesis) is CPU-bound, so only a few jobs run at once. Two lanes share the slots:
 *
 * - `alert`: audio of an alert being raised (CAP, API alert text or audio, an emergency bulletin spoken by someone
 *   who may raise alerts). It has slots of its own that ordinary work never takes, may also take a free ordinary
 *   slot, and its waiting jobs always start before waiting ordinary ones: an alert never queues behind ordinary work.
 * - `ordinary`: uploads and speech for bulletins. Each owner (a scoped user's unit, else the user or token) may
 *   have only a few jobs running or waiting, the queue as a whole is bounded, and owners take turns. Its processes
 *   run at a lower OS priority, so even at full load the CPU goes to alert work and the control plane first.
 */
export type MediaLane = 'alert' | 'ordinary'

export interface MediaJob {
  lane: MediaLane
  /** Who the job counts against (ownerOf): one commune cannot fill the queue. */
  owner: string
}

/** What a running job is allowed: the niceness its processes run at; `signal` ends them at shutdown. */
export interface LaneSlot {
  lane: MediaLane
  nice: number
  signal: AbortSignal
}

export interface MediaLaneLimits {
  /** Slots for ordinary work (alert work may borrow them when free). */
  slots: number
  /** Slots only alert work may use. */
  alertSlots: number
  /** Ordinary jobs one owner may have running or waiting. */
  perOwner: number
  /** Ordinary jobs that may wait in all. */
  queueMax: number
  /** Niceness of ordinary processes. */
  nice: number
}

/** Alert jobs are never refused for fairness; this only bounds memory if something goes badly wrong. */
const ALERT_QUEUE_MAX = 1000

/** Whom ordinary media work counts against: a scoped actor's unit (all its users together), else the actor. */
export function ownerOf(actor: Actor): string {
  return actor.scopeUnitId !== null ? `unit:${actor.scopeUnitId}` : `${actor.kind}:${actor.id}`
}

interface Waiter {
  owner: string
  start: (slot: 'reserved' | 'shared') => void
}

/**
 * Waiting jobs by owner. The next job is the first of the owner with the fewest jobs running, and among those the
 * one served longest ago: a commune with work running, or just served, lets the others go first.
 */
class FairQueue {
  private readonly byOwner = new Map<string, Waiter[]>()
  size = 0

  push(w: Waiter): void {
    const list = this.byOwner.get(w.owner)
    if (list) list.push(w)
    else this.byOwner.set(w.owner, [w])
    this.size++
  }

  has(owner: string): boolean {
    return this.byOwner.has(owner)
  }

  shift(rank: (owner: string) => [running: number, servedAt: number]): Waiter | undefined {
    let best: { owner: string; list: Waiter[]; rank: [number, number] } | undefined
    for (const [owner, list] of this.byOwner) {
      const r = rank(owner)
      if (best === undefined || r[0] < best.rank[0] || (r[0] === best.rank[0] && r[1] < best.rank[1])) {
        best = { owner, list, rank: r }
      }
    }
    if (best === undefined) return undefined
    const w = best.list.shift() as Waiter
    if (best.list.length === 0) this.byOwner.delete(best.owner)
    this.size--
    return w
  }
}

export interface LaneCounts {
  running: number
  waiting: number
}

export class MediaLanes {
  private reservedInUse = 0
  /** Shared slots in use, by ordinary jobs and by alert jobs that borrowed one. */
  private sharedInUse = 0
  private readonly running = { alert: 0, ordinary: 0 }
  private readonly waiting = { alert: new FairQueue(), ordinary: new FairQueue() }
  /** Ordinary jobs running or waiting, per owner. */
  private readonly perOwner = new Map<string, number>()
  /** Jobs running, per owner (both lanes). */
  private readonly runningByOwner = new Map<string, number>()
  /** When each owner last had a job started (a sequence number), for taking turns. */
  private readonly servedAt = new Map<string, number>()
  private starts = 0

  private readonly shutdown = new AbortController()

  constructor(readonly limits: MediaLaneLimits) {}

  /** Kills every running media process and refuses new jobs: the control plane is shutting down. */
  close(): void {
    this.shutdown.abort()
  }

  /**
   * Runs `fn` in a slot of the job's lane, waiting for one if needed. An ordinary job over its owner's share or over
   * the queue bound is refused at once (429 LOA_MEDIA_BUSY), before anything expensive.
   */
  async run<T>(job: MediaJob, fn: (slot: LaneSlot) => Promise<T>): Promise<T> {
    if (this.shutdown.signal.aborted)
      throw new LoaError('LOA_UNAVAILABLE', 'media: the control plane is stopping')
    if (job.lane === 'ordinary') this.admitOrdinary(job.owner)
    let slot: 'reserved' | 'shared'
    try {
      slot = this.take(job.lane) ?? (await this.wait(job))
    } catch (err) {
      if (job.lane === 'ordinary') this.leaveOwner(job.owner)
      throw err
    }
    this.running[job.lane]++
    this.countRunning(job.owner, 1)
    this.servedAt.set(job.owner, ++this.starts)
    try {
      const nice = job.lane === 'alert' ? 0 : this.limits.nice
      return await fn({ lane: job.lane, nice, signal: this.shutdown.signal })
    } finally {
      this.running[job.lane]--
      this.countRunning(job.owner, -1)
      if (slot === 'reserved') this.reservedInUse--
      else this.sharedInUse--
      if (job.lane === 'ordinary') this.leaveOwner(job.owner)
      this.dispatch()
    }
  }

  counts(): Record<MediaLane, LaneCounts> {
    return {
      alert: { running: this.running.alert, waiting: this.waiting.alert.size },
      ordinary: { running: this.running.ordinary, waiting: this.waiting.ordinary.size },
    }
  }

  /** Refuses now what run() would refuse, so a client is told before it sends a whole file for nothing. */
  assertAdmissible(job: MediaJob): void {
    if (job.lane === 'ordinary') {
      this.admitOrdinary(job.owner)
      this.leaveOwner(job.owner)
    }
  }

  private admitOrdinary(owner: string): void {
    const mine = this.perOwner.get(owner) ?? 0
    if (mine >= this.limits.perOwner) {
      throw new LoaError(
        'LOA_MEDIA_BUSY',
        `file: ${mine} media job${mine === 1 ? '' : 's'} of yours already running or waiting ` +
          `(at most ${this.limits.perOwner}); try again when one is done`,
      )
    }
    const mustWait = this.waiting.alert.size > 0 || this.sharedInUse >= this.limits.slots
    if (mustWait && this.waiting.ordinary.size >= this.limits.queueMax) {
      throw new LoaError(
        'LOA_MEDIA_BUSY',
        `file: the media queue is full (${this.waiting.ordinary.size} waiting); try again shortly`,
      )
    }
    this.perOwner.set(owner, mine + 1)
  }

  private countRunning(owner: string, by: 1 | -1): void {
    const n = (this.runningByOwner.get(owner) ?? 0) + by
    if (n > 0) this.runningByOwner.set(owner, n)
    else this.runningByOwner.delete(owner)
    // An owner with nothing running or waiting competes with no one: forget when it was served.
    if (n <= 0 && !this.waiting.alert.has(owner) && !this.waiting.ordinary.has(owner))
      this.servedAt.delete(owner)
  }

  private leaveOwner(owner: string): void {
    const left = (this.perOwner.get(owner) ?? 1) - 1
    if (left > 0) this.perOwner.set(owner, left)
    else this.perOwner.delete(owner)
  }

  /** A free slot for the lane, taken; null when the job must wait. */
  private take(lane: MediaLane): 'reserved' | 'shared' | null {
    if (lane === 'alert' && this.reservedInUse < this.limits.alertSlots) {
      this.reservedInUse++
      return 'reserved'
    }
    // Ordinary jobs never overtake a waiting alert.
    if (lane === 'ordinary' && this.waiting.alert.size > 0) return null
    if (this.sharedInUse < this.limits.slots) {
      this.sharedInUse++
      return 'shared'
    }
    return null
  }

  private wait(job: MediaJob): Promise<'reserved' | 'shared'> {
    if (job.lane === 'alert' && this.waiting.alert.size >= ALERT_QUEUE_MAX) {
      return Promise.reject(new LoaError('LOA_MEDIA_BUSY', 'alert audio: too many alerts waiting for audio'))
    }
    return new Promise((resolve) => this.waiting[job.lane].push({ owner: job.owner, start: resolve }))
  }

  /** Starts waiting jobs into free slots: every waiting alert first, then ordinary owners in turn. */
  private dispatch(): void {
    for (const lane of ['alert', 'ordinary'] as const) {
      while (this.waiting[lane].size > 0) {
        if (lane === 'ordinary' && this.waiting.alert.size > 0) return
        const slot = this.take(lane)
        if (slot === null) break
        const next = this.waiting[lane].shift((o) => [
          this.runningByOwner.get(o) ?? 0,
          this.servedAt.get(o) ?? 0,
        ])
        next?.start(slot)
      }
    }
  }
}

/** The lanes as configured, with their occupancy as a gauge (`loa_media_jobs{lane,state}`). */
export function mediaLanesFrom(c: MediaLimitsConfig, registry?: Registry): MediaLanes {
  const lanes = new MediaLanes({
    slots: c.mediaSlots,
    alertSlots: c.alertMediaSlots,
    perOwner: c.mediaJobsPerOwner,
    queueMax: c.mediaQueueMax,
    nice: c.mediaNice,
  })
  if (registry) {
    new Gauge({
      name: 'loa_media_jobs',
      help: 'Media jobs (transcodes, speech) running or waiting, by lane',
      labelNames: ['lane', 'state'],
      registers: [registry],
      collect() {
        for (const [lane, n] of Object.entries(lanes.counts())) {
          this.set({ lane, state: 'running' }, n.running)
          this.set({ lane, state: 'waiting' }, n.waiting)
        }
      },
    })
  }
  return lanes
}
