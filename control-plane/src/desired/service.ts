import { DESIRED_LIMITS, type TopicTree } from '@loa/shared'
import type { Logger } from 'pino'
import { Gauge } from 'prom-client'
import { alertSpec } from '../alerts/spec.js'
import type { MqttLink } from '../mqtt/link.js'
import type { ClusterInput } from '../org/model.js'
import { liveSpec } from '../relays/live-spec.js'
import type { Repositories } from '../repositories.js'
import type { Metrics } from '../server/metrics.js'
import { type DesiredProblem, DesiredValidator } from './check.js'
import {
  asScope,
  type ClusterProblem,
  desiredLimitError,
  Marks,
  type PassProblems,
  type Waiting,
  waiting,
} from './marks.js'
import type { DesiredStateRecord } from './model.js'
import { DesiredPublisher } from './publisher.js'
import {
  type ClusterScope,
  contentHash,
  type DesiredInputs,
  desiredStateCompiler,
  scopeMatcher,
  unitChains,
} from './state.js'

export type { ClusterProblem } from './marks.js'

/** New versions are written to the database in chunks of about this many bytes, so a pass never holds more. */
const SAVE_CHUNK_BYTES = 16 * 1024 * 1024
/** A recomputation yields to the event loop this often, so HTTP and MQTT stay responsive during a long one. */
const YIELD_EVERY_MS = 50

export interface DesiredServiceOptions {
  repos: Repositories
  mqtt: MqttLink
  topics: TopicTree
  metrics: Metrics
  log: Logger
  timezone: string
  /** Delay before a recomputation asked for by `invalidate` (API writes, through `changed`, start at once). */
  debounceMs?: number
  /** Throttle for re-publishing everything after a (re)connect. */
  republishPerSecond?: number
  /** Minimum gap between two "you missed it" re-publishes to one device. */
  perDeviceRepublishMs?: number
  /** Publication under bursts (desired/publisher.ts). */
  publishQuietMs?: number
  publishMaxDelayMs?: number
  /** Largest desired-state message built (bytes, envelope included); at most DESIRED_LIMITS.maxBytes. */
  maxMessageBytes?: number
  /** Signs every desired state before it is published (devices/signing-keys.ts). */
  sign?: <M extends Record<string, unknown>>(msg: M) => M
  /** After new versions are stored (the broker's ACL follows each device's units). */
  onSaved?: (records: DesiredStateRecord[]) => void
  /**
   * A cluster's newest state was refused (it keeps its last valid version), or is fine again (`null`), when no
   * operator's request is refused for it: the control plane records it as the cluster's event.
   */
  onProblem?: (clusterId: string, problem: ClusterProblem | null) => void
  /** How often everything is recomputed anyway, so past one-off schedules leave desired states (0: never). */
  pruneEveryMs?: number
}

/**
 * Owns the desired state of every device: recomputes it after changes, versions it by content hash, checks it
 * against the agents' limits, stores it, and hands it to the publish queue (desired/publisher.ts).
 *
 * Under bursts: while a recomputation runs, further changes only mark clusters dirty (a bounded set); the next
 * recomputation takes all of them at once. A state that breaks a limit is never stored or published: the cluster
 * keeps its last valid version, the operator's change that caused it is refused (`admit`), and anything else is
 * recorded as the cluster's event.
 */
export class DesiredService {
  private marks = new Marks()
  private next: Waiting | null = null
  private timer: NodeJS.Timeout | null = null
  private loop: Promise<void> | null = null
  private readonly problems = new Map<string, ClusterProblem>()
  private readonly publisher: DesiredPublisher
  private readonly lastRepublish = new Map<string, number>()
  private republishAllRun = 0
  private closed = false
  /** The first full recomputation also checks states stored before (e.g. by an older version of this software). */
  private checkUnchanged = true
  private readonly debounceMs: number
  private readonly perSecond: number
  private readonly perDeviceMs: number
  private readonly maxBodyBytes: number
  private pruneTimer: NodeJS.Timeout | null = null

  constructor(private readonly o: DesiredServiceOptions) {
    this.debounceMs = o.debounceMs ?? 50
    this.perSecond = o.republishPerSecond ?? 300
    this.perDeviceMs = o.perDeviceRepublishMs ?? 2000
    const maxMessage = Math.min(o.maxMessageBytes ?? DESIRED_LIMITS.maxBytes, DESIRED_LIMITS.maxBytes)
    this.maxBodyBytes = maxMessage - DESIRED_LIMITS.envelopeReserveBytes
    this.publisher = new DesiredPublisher({
      mqtt: o.mqtt,
      topics: o.topics,
      metrics: o.metrics,
      log: o.log,
      load: (id) => o.repos.desired.get(id),
      sign: o.sign,
      quietMs: o.publishQuietMs,
      maxDelayMs: o.publishMaxDelayMs,
    })
    const { publisher, problems } = this
    new Gauge({
      name: 'loa_desired_publish_pending',
      help: 'Devices whose newest desired state waits to be published (at most one entry per device)',
      registers: [o.metrics.registry],
      collect() {
        this.set(publisher.size)
      },
    })
    new Gauge({
      name: 'loa_desired_refused_clusters',
      help: 'Clusters whose newest desired state breaks a limit agents enforce (they keep their last valid one)',
      registers: [o.metrics.registry],
      collect() {
        this.set(problems.size)
      },
    })
    const pruneMs = o.pruneEveryMs ?? 15 * 60_000
    // Only states whose content changed get a new version, so this costs one in-memory pass.
    if (pruneMs > 0) this.pruneTimer = setInterval(() => this.invalidate(), pruneMs).unref()
  }

  /** Marks clusters (ids, or a scope; nothing: every cluster) for recomputation after the debounce. */
  invalidate(scope?: readonly string[] | ClusterScope): void {
    if (this.closed || !this.marks.add(scope)) return
    if (!this.timer && !this.loop) {
      this.timer = setTimeout(() => {
        this.timer = null
        this.start()
      }, this.debounceMs)
    }
  }

  /**
   * For API writes: marks and waits until the new versions are stored, so the response (and any read after it)
   * already shows the new desiredVersion. Concurrent writes share one recomputation. Returns the clusters in
   * `scope` whose newest state breaks a limit (they kept their last valid version).
   */
  async changed(scope?: readonly string[] | ClusterScope): Promise<ClusterProblem[]> {
    return this.waitFor(scope, false)
  }

  /**
   * For API writes that may grow states: like `changed`, but when a cluster in `scope` would get a state its
   * agent refuses, `undo` reverts the change and the operator gets a LOA_DESIRED_LIMIT error naming the limit
   * and the cluster. Also when that cluster was already over a limit (the change cannot reach it either). Writes
   * racing in one recomputation may all be refused, never all accepted: nothing invalid is ever stored.
   */
  async admit(
    scope: readonly string[] | ClusterScope | undefined,
    undo: () => Promise<unknown>,
  ): Promise<void> {
    const problems = await this.waitFor(scope, true)
    if (problems.length === 0) return
    await undo()
    await this.changed(scope)
    throw desiredLimitError(problems)
  }

  private async waitFor(scope: readonly string[] | ClusterScope | undefined, admitting: boolean) {
    if (this.closed || !this.marks.add(scope)) return []
    this.next ??= waiting()
    const pass = this.next
    const s = asScope(scope)
    if (admitting) pass.admitting.push(s ?? {})
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    this.start()
    const found = await pass.promise
    const inScope = s === undefined ? () => true : scopeMatcher(s)
    return [...found.values()].filter((f) => inScope(f.cluster, f.chain)).map((f) => f.problem)
  }

  /** Resolves when every change made so far is computed and stored (publishing may still be under way). */
  async settle(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
      this.start()
    }
    while (this.loop) await this.loop
  }

  /** The limit a cluster's newest state breaks, if any (it then keeps its last valid version). */
  problemOf(clusterId: string): ClusterProblem | null {
    return this.problems.get(clusterId) ?? null
  }

  private start(): void {
    this.publisher.setRecomputing(true)
    this.loop ??= this.run().finally(() => {
      this.loop = null
      if (!this.marks.empty && !this.closed) this.start()
      else this.publisher.setRecomputing(false)
    })
  }

  private async run(): Promise<void> {
    for (;;) {
      // One turn of the event loop first: writes already under way (their requests' I/O is queued) mark their
      // clusters too and share this recomputation instead of each starting its own.
      await new Promise((r) => setImmediate(r))
      if (this.marks.empty || this.closed) return
      const marks = this.marks
      const pass = this.next
      this.marks = new Marks()
      this.next = null
      let found: PassProblems = new Map()
      this.o.metrics.desiredRecomputations.inc()
      try {
        found = await this.recompute(marks, pass?.admitting ?? [])
      } catch (err) {
        this.o.log.error({ err }, 'desired-state recomputation failed')
      }
      pass?.resolve(found)
    }
  }

  private async recompute(marks: Marks, admitting: ClusterScope[]): Promise<PassProblems> {
    const { repos } = this.o
    const onlyIds = !marks.all && marks.units.size === 0 && marks.tags.size === 0
    const [units, schedules, bulletins, playlists, media, fallbacks, clusters, heads, alerts, lives, relays] =
      await Promise.all([
        repos.units.list(),
        repos.schedules.list({ enabledOnly: true }),
        repos.content.listBulletins(),
        repos.content.listPlaylists(),
        repos.media.list(),
        repos.fallbacks.list(),
        repos.clusters.listInputs(onlyIds ? [...marks.clusterIds] : undefined),
        repos.desired.heads(),
        repos.alerts.activeWithTargets(),
        repos.lives.activeWithTargets(),
        repos.relays.list(),
      ])
    const inputs: DesiredInputs = {
      units,
      schedules,
      bulletins,
      playlists,
      media,
      fallbacks,
      timezone: this.o.timezone,
      alerts: alerts.map((a) => ({ spec: alertSpec(a.alert), clusterIds: a.clusterIds })),
      lives: lives.map((l) => ({ spec: liveSpec(l.live), clusterIds: l.clusterIds })),
      relays,
      now: new Date().toISOString(),
    }
    const compile = desiredStateCompiler(inputs)
    const chainOf = unitChains(units)
    const inScope = marks.all || onlyIds ? () => true : scopeMatcher(marks)
    const admitted = admitting.map(scopeMatcher)
    const checkUnchanged = marks.all && this.checkUnchanged
    if (marks.all) this.checkUnchanged = false
    const validator = new DesiredValidator(this.maxBodyBytes)
    const memo = new WeakMap<object, string>()
    const found: PassProblems = new Map()
    const generatedAt = new Date().toISOString()
    let batch: DesiredStateRecord[] = []
    let batchBytes = 0
    let stored = 0
    const flush = async () => {
      if (batch.length === 0) return
      await repos.desired.save(batch)
      this.o.onSaved?.(batch)
      for (const r of batch) this.publisher.enqueue(r.clusterId)
      stored += batch.length
      batch = []
      batchBytes = 0
    }
    let slice = performance.now()
    for (const c of clusters) {
      if (performance.now() - slice > YIELD_EVERY_MS) {
        await new Promise((r) => setImmediate(r))
        slice = performance.now()
      }
      const chain = chainOf(c.unitId)
      if (!inScope(c, chain)) continue
      const content = compile(c)
      const hash = contentHash(content, memo)
      const head = heads.get(c.id)
      const unchanged = head?.hash === hash
      if (unchanged && !checkUnchanged) {
        this.cleared(c.id)
        continue
      }
      const version = unchanged ? (head?.version as number) : (head?.version ?? 0) + 1
      // `version` first: an agent reads it from the first bytes and drops a stale state before parsing the rest.
      const body = { version, generatedAt, ...content }
      const json = JSON.stringify(body)
      const problem = validator.check(body, Buffer.byteLength(json))
      if (problem) {
        const byOperator = admitted.some((m) => m(c, chain))
        found.set(c.id, {
          problem: this.refused(c, problem, head?.version ?? null, byOperator),
          cluster: c,
          chain,
        })
        continue
      }
      this.cleared(c.id)
      if (unchanged) continue
      batch.push({ clusterId: c.id, version, hash, body, json })
      batchBytes += json.length
      if (batchBytes >= SAVE_CHUNK_BYTES) await flush()
    }
    await flush()
    if (stored > 0) this.o.log.info({ count: stored }, 'desired states changed')
    return found
  }

  private refused(c: ClusterInput, problem: DesiredProblem, kept: number | null, byOperator: boolean) {
    const previous = this.problems.get(c.id)
    const fresh = previous?.detail !== problem.detail
    const p: ClusterProblem = {
      ...problem,
      clusterId: c.id,
      unitId: c.unitId,
      keptVersion: kept,
      since: fresh || !previous ? new Date().toISOString() : previous.since,
      // An operator's change refused for it is undone: nothing to record. Anything else stays until fixed.
      reported: (previous?.reported ?? false) || !byOperator,
    }
    this.problems.set(c.id, p)
    if (fresh) {
      this.o.metrics.desiredRefused.inc({ limit: p.limit })
      const log = { clusterId: c.id, unitId: c.unitId, limit: p.limit, detail: p.detail, keptVersion: kept }
      if (byOperator) this.o.log.info(log, 'desired state refused: the change that caused it is refused')
      else this.o.log.error(log, 'desired state refused: the cluster keeps its last valid version')
    }
    if (p.reported && (fresh || !previous?.reported)) this.o.onProblem?.(c.id, p)
    return p
  }

  private cleared(clusterId: string): void {
    const previous = this.problems.get(clusterId)
    if (!previous) return
    this.problems.delete(clusterId)
    if (previous.reported) this.o.onProblem?.(clusterId, null)
  }

  /** Publishes a device's current desired state again (device came online, or reported it is behind). */
  async republish(clusterId: string, opts: { minGapMs?: number } = {}): Promise<void> {
    if (this.closed) return
    const now = Date.now()
    if (opts.minGapMs !== undefined && now - (this.lastRepublish.get(clusterId) ?? 0) < opts.minGapMs) return
    this.lastRepublish.set(clusterId, now)
    // The queue holds one entry per device and sends whatever is newest when its turn comes.
    this.publisher.enqueue(clusterId)
  }

  /** Re-publishes every device's desired state, throttled, e.g. after the broker restarted. */
  async republishAll(): Promise<void> {
    const run = ++this.republishAllRun
    while (this.loop) await this.loop
    const heads = await this.o.repos.desired.heads()
    const batch = Math.max(1, Math.round(this.perSecond / 10))
    let n = 0
    for (const id of heads.keys()) {
      // A newer reconnect supersedes this run; closing stops it.
      if (this.closed || run !== this.republishAllRun || !this.o.mqtt.connected) return
      this.publisher.enqueue(id, { now: true })
      if (++n % batch === 0) await new Promise((res) => setTimeout(res, 100))
    }
    this.o.log.info({ count: n }, 'desired states re-published')
  }

  /** Debounce for a device that reports it has not received the current version. */
  get missedGapMs(): number {
    return this.perDeviceMs
  }

  /** The current version of a device, for "behind" checks. */
  async currentVersion(clusterId: string): Promise<number | null> {
    return this.o.repos.desired.versionOf(clusterId)
  }

  /** Resolves once every stored version has been handed to the broker (tests). */
  async flush(): Promise<void> {
    await this.settle()
    await this.publisher.drain()
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer)
    await this.settle()
    await this.publisher.close()
    this.closed = true
  }
}
