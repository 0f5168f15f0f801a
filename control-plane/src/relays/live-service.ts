import { randomUUID } from 'node:crypto'
import type { UnaddressedCommandBody } from '@loa/shared'
import type { Logger } from 'pino'
import { resolveTargets } from '../alerts/targets.js'
import { AckWatch, DeadlineTimer } from '../commands/ack-watch.js'
import type { CommandFanout } from '../commands/fanout.js'
import type { AlertCounts, AlertTargetStatus, UntargetedReport } from '../commands/model.js'
import type { DesiredService } from '../desired/service.js'
import type { Targets } from '../org/model.js'
import type { Repositories } from '../repositories.js'
import { LoaError, notFound } from '../server/errors.js'
import type { Ingest } from '../uplink/ingest.js'
import type { LiveInput } from './live-input.js'
import { liveSpec } from './live-spec.js'
import type { Live } from './model.js'

export interface LivesServiceOptions {
  repos: Repositories
  desired: DesiredService
  ingest: Ingest
  fanout: CommandFanout
  log: Logger
}

export interface LiveView {
  live: Live
  counts: AlertCounts
  clusters: AlertTargetStatus[]
  /** Acks and plays from clusters this relay never targeted: recorded, not counted. */
  untargeted: UntargetedReport[]
}

export interface StartResult {
  live: Live
  targetCount: number
  publishes: number
  publishFailures: number
}

/** A live-start's deadline when the relay has no end: late devices still join through their desired state. */
const OPEN_ENDED_DEADLINE_MS = 24 * 3600_000
const STOP_DEADLINE_MS = 3600_000

const newLiveId = () => `l-${randomUUID()}`
const withAreas = (t: Targets) => ({ ...t, polygons: [], circles: [] })

/**
 * Live relays (tiếp sóng), mirroring alerts: publish `live-start` first (one QoS 1 publish per unit topic, per device
 * for cluster ids and tags, through the queue shared with alerts), then store the targets and recompute the
 * targeted desired states, which carry the relay in `lives` until it ends or is stopped.
 */
export class LivesService {
  private readonly acks: AckWatch
  private readonly ending: DeadlineTimer

  constructor(private readonly o: LivesServiceOptions) {
    this.acks = new AckWatch(o.ingest)
    this.ending = new DeadlineTimer(
      async () => {
        const ends = (await o.repos.lives.list({ state: 'active' }))
          .map((l) => (l.endsAt === null ? Number.NaN : Date.parse(l.endsAt)))
          .filter((t) => Number.isFinite(t))
        return ends.length === 0 ? null : Math.min(...ends)
      },
      () => this.sweepEnded(),
      o.log,
      'live relay end',
    )
  }

  async start(): Promise<void> {
    for (const l of await this.o.repos.lives.list({ limit: 1000 })) this.acks.track(l.ackId, l.id)
    await this.ending.run()
  }

  /** Calls `fn` whenever the relay's counts or state may have changed; returns the unsubscribe function. */
  watch(liveId: string, fn: () => void): () => void {
    return this.acks.watch(liveId, fn)
  }

  async startLive(input: LiveInput): Promise<StartResult> {
    const resolved = await resolveTargets(this.o.repos, withAreas(input.targets))
    if (resolved.clusterIds.length === 0) {
      throw new LoaError('LOA_LIVE_INVALID', 'targets: no cluster matches these targets')
    }
    const now = new Date().toISOString()
    const live: Live = {
      ...input,
      id: newLiveId(),
      revision: 1,
      ackId: randomUUID(),
      state: 'active',
      createdAt: now,
      updatedAt: now,
    }
    const body: UnaddressedCommandBody = {
      // As for alerts, the command id is the ack id: every stage's ack carries it.
      commandId: live.ackId,
      kind: 'live-start',
      deadline: live.endsAt ?? new Date(Date.parse(live.startsAt) + OPEN_ENDED_DEADLINE_MS).toISOString(),
      live: liveSpec(live),
    }
    const r = await this.o.fanout.send('live-start', live.priority, this.o.fanout.publishes(body, resolved))
    this.acks.track(live.ackId, live.id)
    await this.o.repos.lives.create(live, resolved.clusterIds)
    await this.o.desired.changed(resolved.clusterIds)
    this.ending.rearm()
    this.o.log.info(
      { liveId: live.id, priority: live.priority, targets: resolved.clusterIds.length, ...r },
      'live relay started',
    )
    return {
      live,
      targetCount: resolved.clusterIds.length,
      publishes: r.published,
      publishFailures: r.failed,
    }
  }

  /** `live-stop` with the same fan-out; the relay leaves the desired states. Stopping twice changes nothing. */
  async stopLive(id: string): Promise<Live> {
    const cur = await this.get(id)
    if (cur.state !== 'active') return cur
    const ids = await this.o.repos.lives.targetIds(id)
    const resolved = await resolveTargets(this.o.repos, withAreas({ ...cur.targets, clusters: ids }))
    const body: UnaddressedCommandBody = {
      commandId: randomUUID(),
      kind: 'live-stop',
      deadline: new Date(Date.now() + STOP_DEADLINE_MS).toISOString(),
      liveId: id,
    }
    await this.o.repos.ingest.registerFanout({
      commandId: body.commandId,
      kind: 'live-stop',
      thing: 'live',
      thingId: id,
    })
    await this.o.fanout.send('live-stop', cur.priority, this.o.fanout.publishes(body, resolved))
    await this.o.repos.lives.setState(id, 'stopped')
    await this.o.desired.changed(ids)
    this.acks.changed(id)
    this.o.log.info({ liveId: id }, 'live relay stopped')
    return { ...cur, state: 'stopped' }
  }

  listActive(): Promise<Live[]> {
    return this.o.repos.lives.list({ state: 'active', limit: 1000 })
  }

  async get(id: string): Promise<Live> {
    const l = await this.o.repos.lives.get(id)
    if (!l) throw notFound('live relay', id)
    return l
  }

  async view(id: string): Promise<LiveView> {
    const live = await this.get(id)
    const [counts, clusters, untargeted] = await Promise.all([
      this.o.repos.lives.counts(id),
      this.o.repos.lives.targets(id),
      this.o.repos.ingest.listUntargeted('live', id),
    ])
    return { live, counts, clusters, untargeted }
  }

  /** Marks relays past their end as ended and drops them from desired states. */
  private async sweepEnded(): Promise<void> {
    const now = new Date().toISOString()
    for (const l of await this.o.repos.lives.list({ state: 'active' })) {
      if (l.endsAt === null || l.endsAt > now) continue
      await this.o.repos.lives.setState(l.id, 'ended')
      this.o.desired.invalidate(await this.o.repos.lives.targetIds(l.id))
      this.acks.changed(l.id)
      this.o.log.info({ liveId: l.id }, 'live relay ended')
    }
  }

  async close(): Promise<void> {
    this.ending.close()
    this.acks.close()
  }
}
