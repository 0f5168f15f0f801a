import { randomUUID } from 'node:crypto'
import type { TopicTree, UnaddressedCommandBody } from '@loa/shared'
import type { Logger } from 'pino'
import { AckWatch, DeadlineTimer } from '../commands/ack-watch.js'
import { CommandFanout } from '../commands/fanout.js'
import type { AlertCounts, AlertTargetStatus, UntargetedReport } from '../commands/model.js'
import type { DesiredService } from '../desired/service.js'
import type { MqttLink } from '../mqtt/link.js'
import type { Repositories } from '../repositories.js'
import { LoaError, notFound } from '../server/errors.js'
import type { Metrics } from '../server/metrics.js'
import type { Ingest } from '../uplink/ingest.js'
import type { DispatchResult, Publish } from './dispatch.js'
import type { Alert } from './model.js'
import { alertSpec } from './spec.js'
import { resolveTargets } from './targets.js'

export type AlertInput = Omit<Alert, 'id' | 'revision' | 'ackId' | 'state' | 'createdAt' | 'updatedAt'>

export interface AlertsServiceOptions {
  repos: Repositories
  mqtt: MqttLink
  topics: TopicTree
  desired: DesiredService
  ingest: Ingest
  metrics: Metrics
  log: Logger
  maxQueued?: number
  /** The send queue shared with live relays; one is made if not given. */
  fanout?: CommandFanout
  /**
   * How long after the fan-out publish the targeted desired states are recomputed (0: before the API answers).
   * Recomputing and re-publishing thousands of desired states at once would compete with the broker delivering the
   * alert itself (with the embedded aedes, on the same event loop); late joiners lose nothing by the wait.
   */
  desiredDelayMs?: number
}

export interface AlertView {
  alert: Alert
  counts: AlertCounts
  clusters: AlertTargetStatus[]
  /** Acks and plays from clusters this alert never targeted: recorded, not counted. */
  untargeted: UntargetedReport[]
}

export interface RaiseResult {
  alert: Alert
  targetCount: number
  /** False when the alert was already expired: stored for the record, never sent. */
  sent: boolean
  publishes: number
  publishFailures: number
}

const MAX_TIMER_MS = 60 * 60_000
const DESIRED_DELAY_MS = 1500
const FINAL = new Set(['done', 'failed', 'cancelled', 'expired'])

const newAlertId = () => `a-${randomUUID()}`

/**
 * Raises, revises and withdraws alerts: publish first (one QoS 1 publish per unit topic, per device otherwise), then
 * store the targets and recompute the desired states of the targeted clusters so late joiners and devices that
 * missed the publish converge. Acks are aggregated by the ingest batch (same transaction); this service only tells
 * watchers (SSE) which alerts changed.
 */
export class AlertsService {
  private readonly fanout: CommandFanout
  private readonly acks: AckWatch
  private readonly expiry: DeadlineTimer

  constructor(private readonly o: AlertsServiceOptions) {
    this.fanout = o.fanout ?? new CommandFanout(o, o.maxQueued)
    this.acks = new AckWatch(o.ingest)
    this.expiry = new DeadlineTimer(
      async () => {
        const active = await this.o.repos.alerts.list({ state: 'active' })
        return active.length === 0 ? null : Math.min(...active.map((a) => Date.parse(a.expiresAt)))
      },
      () => this.sweepExpired(),
      o.log,
      'alert expiry',
    )
  }

  async start(): Promise<void> {
    for (const a of await this.o.repos.alerts.list({ limit: 1000 })) this.acks.track(a.ackId, a.id)
    await this.expiry.run()
  }

  /** Calls `fn` whenever the alert's counts or state may have changed; returns the unsubscribe function. */
  watch(alertId: string, fn: () => void): () => void {
    return this.acks.watch(alertId, fn)
  }

  async raise(input: AlertInput): Promise<RaiseResult> {
    const resolved = await resolveTargets(this.o.repos, input.targets)
    if (resolved.clusterIds.length === 0) {
      throw new LoaError('LOA_ALERT_INVALID', 'targets: no cluster matches these targets')
    }
    const now = new Date().toISOString()
    const alert: Alert = {
      ...input,
      id: newAlertId(),
      revision: 1,
      ackId: randomUUID(),
      state: input.expiresAt > now ? 'active' : 'expired',
      createdAt: now,
      updatedAt: now,
    }
    let result: DispatchResult = { published: 0, failed: 0 }
    if (alert.state === 'active') {
      result = await this.send('alert', alert.priority, this.alertPublishes(alert, resolved))
    }
    this.acks.track(alert.ackId, alert.id)
    await this.o.repos.alerts.create(alert, resolved.clusterIds)
    if (alert.state === 'active') {
      await this.desiredChanged(resolved.clusterIds)
      this.expiry.rearm()
    }
    this.o.log.info(
      { alertId: alert.id, priority: alert.priority, targets: resolved.clusterIds.length, ...result },
      'alert raised',
    )
    return {
      alert,
      targetCount: resolved.clusterIds.length,
      sent: alert.state === 'active',
      publishes: result.published,
      publishFailures: result.failed,
    }
  }

  /** A new revision (content, expiry, audibility): new ack id, every target pending again, sent again. */
  async revise(id: string, patch: Partial<AlertInput>): Promise<RaiseResult> {
    const cur = await this.get(id)
    if (cur.state !== 'active') {
      throw new LoaError('LOA_CONFLICT', `alert "${id}" is ${cur.state}: raise a new one instead`)
    }
    const now = new Date().toISOString()
    const next: Alert = {
      ...cur,
      ...patch,
      targets: cur.targets,
      revision: cur.revision + 1,
      ackId: randomUUID(),
      updatedAt: now,
    }
    if (next.expiresAt <= now) throw new LoaError('LOA_ALERT_INVALID', 'expiresAt: already past')
    const resolved = await resolveTargets(this.o.repos, {
      ...cur.targets,
      clusters: await this.targetIds(cur),
    })
    const result = await this.send('alert', next.priority, this.alertPublishes(next, resolved))
    this.acks.track(next.ackId, next.id)
    await this.o.repos.alerts.revise(next)
    await this.o.desired.changed(resolved.clusterIds)
    this.expiry.rearm()
    this.acks.changed(id)
    return {
      alert: next,
      targetCount: resolved.clusterIds.length,
      sent: true,
      publishes: result.published,
      publishFailures: result.failed,
    }
  }

  async cancel(id: string): Promise<Alert> {
    const cur = await this.get(id)
    if (cur.state !== 'active') return cur
    const ids = await this.o.repos.alerts.targetIds(id)
    const resolved = await resolveTargets(this.o.repos, { ...cur.targets, clusters: ids })
    const body: UnaddressedCommandBody = {
      commandId: randomUUID(),
      kind: 'alert-cancel',
      // A cancel must still be carried out by a device that gets it late; an hour is ample.
      deadline: new Date(Date.now() + MAX_TIMER_MS).toISOString(),
      alertId: id,
    }
    // Its acks come from the alert's targets only; any other cluster's is set aside (commands/sqlite-untargeted.ts).
    await this.o.repos.ingest.registerFanout({
      commandId: body.commandId,
      kind: 'alert-cancel',
      thing: 'alert',
      thingId: id,
    })
    await this.send('alert-cancel', cur.priority, this.fanout.publishes(body, resolved))
    await this.o.repos.alerts.setState(id, 'cancelled')
    await this.o.desired.changed(ids)
    this.acks.changed(id)
    this.o.log.info({ alertId: id }, 'alert cancelled')
    return { ...cur, state: 'cancelled' }
  }

  async get(id: string): Promise<Alert> {
    const a = await this.o.repos.alerts.get(id)
    if (!a) throw notFound('alert', id)
    return a
  }

  async view(id: string): Promise<AlertView> {
    const alert = await this.get(id)
    const [counts, clusters, untargeted] = await Promise.all([
      this.o.repos.alerts.counts(id),
      this.o.repos.alerts.targets(id),
      this.o.repos.ingest.listUntargeted('alert', id),
    ])
    return { alert, counts, clusters, untargeted }
  }

  /** Over: withdrawn or expired, or every targeted cluster has a final stage. */
  static isOver(v: { alert: Alert; counts: AlertCounts }): boolean {
    const c = v.counts
    return v.alert.state !== 'active' || c.done + c.failed + c.cancelled + c.expired === c.targeted
  }

  static finalStage(stage: string | null): boolean {
    return stage !== null && FINAL.has(stage)
  }

  private async targetIds(a: Alert): Promise<string[]> {
    return [...new Set([...a.targets.clusters, ...(await this.o.repos.alerts.targetIds(a.id))])]
  }

  private async desiredChanged(clusterIds: string[]): Promise<void> {
    const delay = this.o.desiredDelayMs ?? DESIRED_DELAY_MS
    if (delay <= 0) {
      await this.o.desired.changed(clusterIds)
      return
    }
    setTimeout(() => this.o.desired.invalidate(clusterIds), delay).unref()
  }

  private send(kind: string, priority: number, publishes: Publish[]): Promise<DispatchResult> {
    return this.fanout.send(kind, priority, publishes)
  }

  private alertPublishes(a: Alert, r: { unitTopics: string[]; deviceTopics: string[] }): Publish[] {
    const body: UnaddressedCommandBody = {
      // The protocol wants an alert command's id to be its ack id: every stage's ack carries it.
      commandId: a.ackId,
      kind: 'alert',
      deadline: a.expiresAt,
      alert: alertSpec(a),
    }
    return this.fanout.publishes(body, r)
  }

  /** Marks alerts past their expiry as expired and drops them from desired states. */
  private async sweepExpired(): Promise<void> {
    const now = new Date().toISOString()
    for (const a of await this.o.repos.alerts.list({ state: 'active' })) {
      if (a.expiresAt > now) continue
      await this.o.repos.alerts.setState(a.id, 'expired')
      this.o.desired.invalidate(await this.o.repos.alerts.targetIds(a.id))
      this.acks.changed(a.id)
      this.o.log.info({ alertId: a.id }, 'alert expired')
    }
  }

  get queued(): number {
    return this.fanout.queued
  }

  async close(): Promise<void> {
    this.expiry.close()
    this.acks.close()
  }
}
