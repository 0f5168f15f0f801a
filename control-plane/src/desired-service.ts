import { encodeMessage, serializeMessage, type TopicTree } from '@loa/shared'
import type { Logger } from 'pino'
import { alertSpec } from './alert-spec.js'
import { contentHash, type DesiredInputs, desiredStateCompiler } from './desired-state.js'
import type { DesiredStateRecord } from './domain.js'
import { liveSpec } from './live-spec.js'
import type { Metrics } from './metrics.js'
import type { MqttLink } from './mqtt-link.js'
import type { Repositories } from './repositories.js'

const PUBLISH_WINDOW = 200

export interface DesiredServiceOptions {
  repos: Repositories
  mqtt: MqttLink
  topics: TopicTree
  metrics: Metrics
  log: Logger
  timezone: string
  /** Coalesces bursts of changes into one recomputation. */
  debounceMs?: number
  /** Throttle for re-publishing everything after a (re)connect. */
  republishPerSecond?: number
  /** Minimum gap between two "you missed it" re-publishes to one device. */
  perDeviceRepublishMs?: number
  /** Signs every desired state before it is published (signing-keys.ts). */
  sign?: <M extends Record<string, unknown>>(msg: M) => M
  /** After new versions are stored (the broker's ACL follows each device's units). */
  onSaved?: (records: DesiredStateRecord[]) => void
  /** How often everything is recomputed anyway, so past one-off schedules leave desired states (0: never). */
  pruneEveryMs?: number
}

/**
 * Owns the desired state of every device: recomputes it after changes (debounced, batched, in memory), versions it
 * by content hash, publishes it, and re-publishes from the database whenever a device or the broker may have lost it.
 */
export class DesiredService {
  private dirtyAll = false
  private readonly dirty = new Set<string>()
  private timer: NodeJS.Timeout | null = null
  /** Computation and storage of new versions; what API writes wait for. */
  private running: Promise<void> = Promise.resolve()
  /** Publishing of stored versions, which may take longer and never blocks an API call. */
  private publishing: Promise<void> = Promise.resolve()
  private readonly lastRepublish = new Map<string, number>()
  private republishAllRun = 0
  private closed = false
  private readonly debounceMs: number
  private readonly perSecond: number
  private readonly perDeviceMs: number
  private pruneTimer: NodeJS.Timeout | null = null

  constructor(private readonly o: DesiredServiceOptions) {
    this.debounceMs = o.debounceMs ?? 50
    this.perSecond = o.republishPerSecond ?? 300
    this.perDeviceMs = o.perDeviceRepublishMs ?? 2000
    const pruneMs = o.pruneEveryMs ?? 15 * 60_000
    // Only states whose content changed get a new version, so this costs one in-memory pass.
    if (pruneMs > 0) this.pruneTimer = setInterval(() => this.invalidate(), pruneMs).unref()
  }

  /** Marks clusters (or, with no argument, every cluster) for recomputation. */
  invalidate(clusterIds?: string[]): void {
    if (this.closed) return
    if (clusterIds === undefined) this.dirtyAll = true
    else for (const id of clusterIds) this.dirty.add(id)
    if (!this.timer) this.timer = setTimeout(() => this.kick(), this.debounceMs)
  }

  /**
   * For API writes: marks and waits until the new versions are stored, so the response (and any read after it)
   * already shows the new desiredVersion. Concurrent writes still share one recomputation.
   */
  async changed(clusterIds?: string[]): Promise<void> {
    this.invalidate(clusterIds)
    await this.settle()
  }

  /** Resolves when every change made so far is computed and stored (publishing may still be under way). */
  async settle(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer)
      this.kick()
    }
    await this.running
  }

  private kick(): void {
    this.timer = null
    const all = this.dirtyAll
    const ids = [...this.dirty]
    this.dirtyAll = false
    this.dirty.clear()
    this.running = this.running
      .then(() => this.recompute(all ? undefined : ids))
      .catch((err) => this.o.log.error({ err }, 'desired-state recomputation failed'))
  }

  private async recompute(ids?: string[]): Promise<void> {
    const { repos } = this.o
    const [units, schedules, bulletins, playlists, media, fallbacks, clusters, heads, alerts, lives, relays] =
      await Promise.all([
        repos.units.list(),
        repos.schedules.list({ enabledOnly: true }),
        repos.content.listBulletins(),
        repos.content.listPlaylists(),
        repos.media.list(),
        repos.fallbacks.list(),
        repos.clusters.listInputs(ids),
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
    const changed: DesiredStateRecord[] = []
    const generatedAt = new Date().toISOString()
    for (const c of clusters) {
      const content = compile(c)
      const hash = contentHash(content)
      const head = heads.get(c.id)
      if (head && head.hash === hash) continue
      const version = (head?.version ?? 0) + 1
      changed.push({ clusterId: c.id, version, hash, body: { ...content, version, generatedAt } })
    }
    if (changed.length === 0) return
    await repos.desired.save(changed)
    this.o.onSaved?.(changed)
    this.o.log.info({ count: changed.length }, 'desired states changed')
    this.publishing = this.publishing.then(async () => {
      // A window of QoS 1 publishes in flight: one at a time, 10,000 acknowledgements would take seconds.
      for (let i = 0; i < changed.length; i += PUBLISH_WINDOW) {
        await Promise.all(changed.slice(i, i + PUBLISH_WINDOW).map((r) => this.publishRecord(r)))
      }
    })
  }

  private async publishRecord(r: DesiredStateRecord): Promise<void> {
    const unsigned = encodeMessage('desired', 'control-plane', r.body)
    const msg = this.o.sign ? this.o.sign(unsigned) : unsigned
    try {
      // Retained only as an optimisation: correctness comes from re-publishing out of the database.
      await this.o.mqtt.publish(
        this.o.topics.device(r.clusterId, 'desired'),
        serializeMessage('desired', msg),
        {
          retain: true,
        },
      )
      this.o.metrics.desiredPublished.inc()
    } catch (err) {
      this.o.log.warn({ clusterId: r.clusterId, err: (err as Error).message }, 'desired-state publish failed')
    }
  }

  /** Publishes a device's current desired state again (device came online, or reported it is behind). */
  async republish(clusterId: string, opts: { minGapMs?: number } = {}): Promise<void> {
    if (this.closed) return
    if (opts.minGapMs !== undefined) {
      const last = this.lastRepublish.get(clusterId) ?? 0
      if (Date.now() - last < opts.minGapMs) return
    }
    this.lastRepublish.set(clusterId, Date.now())
    await this.running
    const r = await this.o.repos.desired.get(clusterId)
    if (r) await this.publishRecord(r)
  }

  /** Re-publishes every device's desired state, throttled, e.g. after the broker restarted. */
  async republishAll(): Promise<void> {
    const run = ++this.republishAllRun
    await this.running
    const heads = await this.o.repos.desired.heads()
    const batch = Math.max(1, Math.round(this.perSecond / 10))
    let n = 0
    for (const id of heads.keys()) {
      // A newer reconnect supersedes this run; closing stops it.
      if (this.closed || run !== this.republishAllRun || !this.o.mqtt.connected) return
      const r = await this.o.repos.desired.get(id)
      if (r) await this.publishRecord(r)
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
    return (await this.o.repos.desired.get(clusterId))?.version ?? null
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer)
    await this.settle()
    await this.publishing
    this.closed = true
  }
}
