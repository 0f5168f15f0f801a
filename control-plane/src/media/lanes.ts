import { Gauge, type Registry } from 'prom-client'
import type { Actor } from '../access/actor.js'
import { LoaError } from '../server/errors.js'
import type { MediaLimitsConfig } from './config.js'

/**
 * Media work (ffmpeg, speech synthesis) is CPU-bound, so only a few jobs run at once. Two lanes share the slots:
 *
 * - `alert`: audio of an alert being raised (CAP, API alert text or audio, an emergency bulletin spoken by someone
 *   who may raise alerts). It has slots of its own that ordinary work never takes, may also take a free ordinary
 *   slot, and its waiting jobs always start before waiting ordinary ones: an alert never queues behind ordinary work.
 *   Commune operators may raise alerts too, so a commune runs one alert job at a time (its next one waits for it, in
 *   nobody else's way), and alert audio is held to a shorter length (LOA_MAX_ALERT_MEDIA_SECONDS).
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
/**
 * A commune (any scoped owner) runs one alert job at a time; its next waits for it, not in anyone's way. Commune
 * operators may raise alerts, so without this one commune could fill every alert slot with alert-lane uploads.
 */
const ALERT_JOBS_PER_UNIT = 1
const unitOwned = (owner: string) => owner.startsWith('unit:')

/** Whom ordinary media work counts against: a scoped actor's unit (all its users together), else the actor. */
export function ownerOf(actor: Actor): string {
  return actor.scopeUnitId !== null ? `unit:${actor.scopeUnitId}` : `${actor.kind}:${actor.id}`
}

type SlotKind = 'reserved' | 'shared'

interface Waiter {
  owner: string
  start: (slot: SlotKind) => void
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

  owners(): IterableIterator<string> {
    return this.byOwner.keys()
  }

  /** The next job by `rank` among owners that may start one now (`rank` null: not now). */
  shift(rank: (owner: string) => [running: number, servedAt: number] | null): Waiter | undefined {
    let best: { owner: string; list: Waiter[]; rank: [number, number] } | undefined
    for (const [owner, list] of this.byOwner) {
      const r = rank(owner)
      if (r === null) continue
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

function bump(counts: Map<string, number>, owner: string, by: 1 | -1): number {
  const n = (counts.get(owner) ?? 0) + by
  if (n > 0) counts.set(owner, n)
  else counts.delete(owner)
  return n
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
  private readonly ordinaryHeld = new Map<string, number>()
  /** Jobs running, per owner (both lanes), and alert jobs running, per owner. */
  private readonly runningByOwner = new Map<string, number>()
  private readonly runningAlerts = new Map<string, number>()
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
    if (this.shutdown.signal.aborted) {
      throw new LoaError('LOA_UNAVAILABLE', 'media: the control plane is stopping')
    }
    if (job.lane === 'ordinary') this.admitOrdinary(job.owner)
    let slot = this.mayStart(job) ? this.take(job.lane) : null
    if (slot !== null) this.begin(job)
    else {
      try {
        // dispatch() begins the job before it resolves this.
        slot = await this.wait(job)
      } catch (err) {
        if (job.lane === 'ordinary') bump(this.ordinaryHeld, job.owner, -1)
        throw err
      }
    }
    try {
      const nice = job.lane === 'alert' ? 0 : this.limits.nice
      return await fn({ lane: job.lane, nice, signal: this.shutdown.signal })
    } finally {
      this.end(job, slot)
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
      bump(this.ordinaryHeld, job.owner, -1)
    }
  }

  private admitOrdinary(owner: string): void {
    const mine = this.ordinaryHeld.get(owner) ?? 0
    if (mine >= this.limits.perOwner) {
      throw new LoaError(
        'LOA_MEDIA_BUSY',
        `file: ${mine} media job${mine === 1 ? '' : 's'} of yours already running or waiting ` +
          `(at most ${this.limits.perOwner}); try again when one is done`,
      )
    }
    const mustWait = this.alertsReady() || this.sharedInUse >= this.limits.slots
    if (mustWait && this.waiting.ordinary.size >= this.limits.queueMax) {
      throw new LoaError(
        'LOA_MEDIA_BUSY',
        `file: the media queue is full (${this.waiting.ordinary.size} waiting); try again shortly`,
      )
    }
    bump(this.ordinaryHeld, owner, 1)
  }

  /** Whether the owner may start another job of this lane now (slots aside). */
  private mayStart(job: MediaJob): boolean {
    if (job.lane !== 'alert' || !unitOwned(job.owner)) return true
    return (this.runningAlerts.get(job.owner) ?? 0) < ALERT_JOBS_PER_UNIT
  }

  /** Whether an alert job waits that could start as soon as a slot is free: ordinary work never overtakes it. */
  private alertsReady(): boolean {
    for (const owner of this.waiting.alert.owners()) if (this.mayStart({ lane: 'alert', owner })) return true
    return false
  }

  /** A free slot for the lane, taken; null when the job must wait. */
  private take(lane: MediaLane): SlotKind | null {
    if (lane === 'alert' && this.reservedInUse < this.limits.alertSlots) {
      this.reservedInUse++
      return 'reserved'
    }
    if (lane === 'ordinary' && this.alertsReady()) return null
    if (this.sharedInUse < this.limits.slots) {
      this.sharedInUse++
      return 'shared'
    }
    return null
  }

  private release(slot: SlotKind): void {
    if (slot === 'reserved') this.reservedInUse--
    else this.sharedInUse--
  }

  /** Bookkeeping of a job that starts, done at once (several may start in one dispatch). */
  private begin(job: MediaJob): void {
    this.running[job.lane]++
    bump(this.runningByOwner, job.owner, 1)
    if (job.lane === 'alert') bump(this.runningAlerts, job.owner, 1)
    this.servedAt.set(job.owner, ++this.starts)
  }

  private end(job: MediaJob, slot: SlotKind): void {
    this.running[job.lane]--
    this.release(slot)
    const left = bump(this.runningByOwner, job.owner, -1)
    if (job.lane === 'alert') bump(this.runningAlerts, job.owner, -1)
    if (job.lane === 'ordinary') bump(this.ordinaryHeld, job.owner, -1)
    // An owner with nothing running or waiting competes with no one: forget when it was served.
    if (left <= 0 && !this.waiting.alert.has(job.owner) && !this.waiting.ordinary.has(job.owner)) {
      this.servedAt.delete(job.owner)
    }
  }

  private wait(job: MediaJob): Promise<SlotKind> {
    if (job.lane === 'alert' && this.waiting.alert.size >= ALERT_QUEUE_MAX) {
      return Promise.reject(new LoaError('LOA_MEDIA_BUSY', 'alert audio: too many alerts waiting for audio'))
    }
    return new Promise((resolve) => this.waiting[job.lane].push({ owner: job.owner, start: resolve }))
  }

  /** Starts waiting jobs into free slots: every alert that may start first, then ordinary owners in turn. */
  private dispatch(): void {
    for (const lane of ['alert', 'ordinary'] as const) {
      while (this.waiting[lane].size > 0) {
        const slot = this.take(lane)
        if (slot === null) break
        const next = this.waiting[lane].shift((owner) =>
          this.mayStart({ lane, owner })
            ? [this.runningByOwner.get(owner) ?? 0, this.servedAt.get(owner) ?? 0]
            : null,
        )
        if (!next) {
          this.release(slot)
          break
        }
        this.begin({ lane, owner: next.owner })
        next.start(slot)
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
