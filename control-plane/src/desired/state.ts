import { createHash } from 'node:crypto'
import {
  type AlertSpec,
  type BulletinLevel,
  DESIRED_LIMITS,
  type DesiredStateBody,
  type FallbackProgramme,
  type LiveSpec,
  type MediaRef,
  type RelayEntry,
  type ScheduleEntry,
} from '@loa/shared'
import type { Bulletin, Playlist } from '../bulletins/model.js'
import type { Media } from '../media/model.js'
import type { ClusterInput, Targets, Unit } from '../org/model.js'
import type { Relay } from '../relays/model.js'
import type { Fallback, Schedule } from '../schedules/model.js'

/** Everything a desired state depends on, loaded once per recomputation batch. */
export interface DesiredInputs {
  units: Unit[]
  schedules: Schedule[]
  bulletins: Bulletin[]
  playlists: Playlist[]
  media: Media[]
  fallbacks: Fallback[]
  timezone: string
  /** Active alerts with the clusters they target; expired ones (at `now`) are left out. */
  alerts?: { spec: AlertSpec; clusterIds: string[] }[]
  /** Active live relays with the clusters they target; ended ones (at `now`) are left out. */
  lives?: { spec: LiveSpec; clusterIds: string[] }[]
  /** Recurring relays, targeted like schedules. */
  relays?: Relay[]
  now?: string
}

/** Ids of schedules (or relays) by what they target: unit, cluster id, tag. */
class TargetIndex {
  private readonly byUnit = new Map<string, string[]>()
  private readonly byCluster = new Map<string, string[]>()
  private readonly byTag = new Map<string, string[]>()

  add(id: string, t: Targets): void {
    for (const u of t.units) pushTo(this.byUnit, u, id)
    for (const c of t.clusters) pushTo(this.byCluster, c, id)
    for (const x of t.tags) pushTo(this.byTag, x, id)
  }

  /** Everything targeting a cluster through its unit chain, its id or one of its tags. */
  match(units: string[], cluster: ClusterInput): Set<string> {
    const ids = new Set<string>()
    for (const u of units) for (const id of this.byUnit.get(u) ?? []) ids.add(id)
    for (const id of this.byCluster.get(cluster.id) ?? []) ids.add(id)
    for (const t of cluster.tags) for (const id of this.byTag.get(t) ?? []) ids.add(id)
    return ids
  }
}

function pushTo<T>(index: Map<string, T[]>, key: string, value: T): void {
  const list = index.get(key)
  if (list) list.push(value)
  else index.set(key, [value])
}

/** Specs by targeted cluster, keeping the given order. */
function byTargetCluster<T>(items: { spec: T; clusterIds: string[] }[]): Map<string, T[]> {
  const index = new Map<string, T[]>()
  for (const a of items) for (const c of a.clusterIds) pushTo(index, c, a.spec)
  return index
}

/** The desired state minus `version` and `generatedAt`: what the content hash covers. */
export type DesiredContent = Omit<DesiredStateBody, 'version' | 'generatedAt'>

const LEVEL_RANK: Record<BulletinLevel, number> = { normal: 0, priority: 1, emergency: 2 }
const DEFAULT_VOLUME = 80
/** How long after its end a one-off schedule is still sent (a late device may still be reporting it). */
export const PRUNE_GRACE_MS = 60 * 60_000

/** Each unit's ancestor chain (root first), resolved once per unit of one snapshot. */
export function unitChains(units: Unit[]): (unitId: string) => string[] {
  const unitById = new Map(units.map((u) => [u.id, u]))
  const chains = new Map<string, string[]>()
  const chainOf = (unitId: string): string[] => {
    let chain = chains.get(unitId)
    if (chain) return chain
    chain = []
    const seen = new Set<string>()
    for (
      let u = unitById.get(unitId);
      u && !seen.has(u.id);
      u = u.parentId ? unitById.get(u.parentId) : undefined
    ) {
      seen.add(u.id)
      chain.unshift(u.id)
    }
    chains.set(unitId, chain)
    return chain
  }
  return chainOf
}

/** What a change touched: clusters by id, every cluster under some units, clusters with some tags. */
export interface ClusterScope {
  clusterIds?: Iterable<string>
  units?: Iterable<string>
  tags?: Iterable<string>
}

/** The clusters a schedule's (or relay's) targets reach. */
export const targetsScope = (t: Targets): ClusterScope => ({
  clusterIds: t.clusters,
  units: t.units,
  tags: t.tags,
})

/** Whether a cluster is in a scope, given its unit chain. */
export function scopeMatcher(scope: ClusterScope): (cluster: ClusterInput, chain: string[]) => boolean {
  const ids = new Set(scope.clusterIds ?? [])
  const units = new Set(scope.units ?? [])
  const tags = new Set(scope.tags ?? [])
  return (c, chain) => ids.has(c.id) || chain.some((u) => units.has(u)) || c.tags.some((t) => tags.has(t))
}

/**
 * Computes desired states for many clusters from one in-memory snapshot: schedules are indexed by target
 * (unit, cluster, tag) and each unit's ancestor chain is resolved once, so 10,000 clusters cost one pass. The
 * states of one compiler share their schedule entries and media references (same objects): callers must not
 * mutate them, and may memoise work per object (desired/check.ts, contentHash).
 */
export function desiredStateCompiler(inputs: DesiredInputs): (cluster: ClusterInput) => DesiredContent {
  const bulletinById = new Map(inputs.bulletins.map((b) => [b.id, b]))
  const playlistById = new Map(inputs.playlists.map((p) => [p.id, p]))
  const mediaBySha = new Map(inputs.media.map((m) => [m.sha256, m]))
  const fallbackByUnit = new Map(inputs.fallbacks.map((f) => [f.unitId, f]))
  const chainOf = unitChains(inputs.units)

  // Past one-off schedules (and series that ended) stay in the database for reports but leave desired states.
  const pruneBefore = Date.parse(inputs.now ?? new Date().toISOString()) - PRUNE_GRACE_MS
  const isPast = (s: Schedule, bs: Bulletin[], before: number): boolean => {
    if (s.recurrence.kind === 'once') {
      const length = bs.reduce((sum, b) => sum + (mediaBySha.get(b.mediaSha256)?.durationMs ?? 0), 0)
      return Date.parse(s.recurrence.at) + length < before
    }
    // A series' end date is local; a day of slack covers any time zone.
    return s.recurrence.endDate !== undefined && Date.parse(s.recurrence.endDate) + 2 * 86_400_000 < before
  }
  // Each schedule compiled once into an entry (or dropped if its content is gone).
  const entries = new Map<string, ScheduleEntry>()
  const scheduleIndex = new TargetIndex()
  for (const s of inputs.schedules) {
    if (!s.enabled) continue
    const bulletins = s.bulletinId
      ? [bulletinById.get(s.bulletinId)]
      : (playlistById.get(s.playlistId ?? '')?.bulletinIds ?? []).map((id) => bulletinById.get(id))
    // A draft never reaches a device, whatever path scheduled it.
    if (bulletins.length === 0 || bulletins.some((b) => b === undefined || b.status === 'draft')) continue
    const bs = bulletins as Bulletin[]
    if (isPast(s, bs, pruneBefore)) continue
    const level = bs.reduce<BulletinLevel>(
      (l, b) => (LEVEL_RANK[b.level] > LEVEL_RANK[l] ? b.level : l),
      'normal',
    )
    const fallbackTitle = s.bulletinId ? bs[0]?.title : playlistById.get(s.playlistId ?? '')?.title
    const entry: ScheduleEntry = {
      id: s.id,
      title: (s.title || fallbackTitle || s.id).slice(0, DESIRED_LIMITS.titleLength),
      level,
      priority: s.priority,
      items: bs.map((b) => b.mediaSha256),
      recurrence: s.recurrence,
    }
    if (s.volume !== null) entry.volume = s.volume
    entries.set(s.id, entry)
    scheduleIndex.add(s.id, s.targets)
  }
  const order = new Map(inputs.schedules.map((s, i) => [s.id, i]))

  // Alerts by cluster, in band order (highest first), then oldest first: the order a device should play them.
  const now = inputs.now ?? new Date().toISOString()
  const alertsByCluster = byTargetCluster(
    (inputs.alerts ?? [])
      .filter((a) => a.spec.expiresAt > now)
      .sort((a, b) => b.spec.priority - a.spec.priority || a.spec.startsAt.localeCompare(b.spec.startsAt)),
  )
  // Live relays on now or starting later, same order; one past its end is left out even before the timer runs.
  const livesByCluster = byTargetCluster(
    (inputs.lives ?? [])
      .filter((l) => l.spec.endsAt === null || l.spec.endsAt > now)
      .sort((a, b) => b.spec.priority - a.spec.priority || a.spec.startsAt.localeCompare(b.spec.startsAt)),
  )
  const relayIndex = new TargetIndex()
  const relayById = new Map<string, RelayEntry>()
  for (const r of inputs.relays ?? []) {
    const entry: RelayEntry = {
      id: r.id,
      title: r.title.slice(0, DESIRED_LIMITS.titleLength),
      sourceUrl: r.sourceUrl,
      priority: r.priority,
      recurrence: r.recurrence,
      durationS: r.durationS,
    }
    if (r.volume !== null) entry.volume = r.volume
    relayById.set(r.id, entry)
    relayIndex.add(r.id, r.targets)
  }
  const relayOrder = new Map((inputs.relays ?? []).map((r, i) => [r.id, i]))

  // One object per file, shared by every state that lists it.
  const refs = new Map<string, MediaRef | null>()
  const mediaRef = (sha: string): MediaRef | null => {
    let ref = refs.get(sha)
    if (ref !== undefined) return ref
    const m = mediaBySha.get(sha)
    ref = m
      ? { sha256: m.sha256, size: m.size, url: `/media/${m.sha256}`, mime: m.mime, durationMs: m.durationMs }
      : null
    refs.set(sha, ref)
    return ref
  }

  return (cluster) => {
    const units = chainOf(cluster.unitId)
    const schedule = [...scheduleIndex.match(units, cluster)]
      .sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))
      .map((id) => entries.get(id))
      .filter((e): e is ScheduleEntry => e !== undefined)

    let fallback: FallbackProgramme | null = null
    for (let i = units.length - 1; i >= 0; i--) {
      const f = fallbackByUnit.get(units[i] as string)
      if (!f) continue
      const items = f.bulletinIds
        .map((id) => bulletinById.get(id)?.mediaSha256)
        .filter((s): s is string => !!s)
      if (items.length === 0) break
      fallback = { items, windows: f.windows }
      if (f.volume !== null) fallback.volume = f.volume
      break
    }

    const shas = new Set<string>()
    for (const e of schedule) for (const s of e.items) shas.add(s)
    for (const s of fallback?.items ?? []) shas.add(s)
    const media = [...shas]
      .sort()
      .map(mediaRef)
      .filter((m): m is MediaRef => m !== null)

    const alerts = alertsByCluster.get(cluster.id)
    const lives = livesByCluster.get(cluster.id)
    const relays = [...relayIndex.match(units, cluster)]
      .sort((a, b) => (relayOrder.get(a) ?? 0) - (relayOrder.get(b) ?? 0))
      .map((id) => relayById.get(id) as RelayEntry)
    return {
      deviceId: cluster.id,
      timezone: inputs.timezone,
      units,
      volume: cluster.volume ?? DEFAULT_VOLUME,
      media,
      schedule,
      fallback,
      // Only present while an alert is active, so states without alerts hash as before. Past the limit, the
      // lowest bands are left out (they are sorted highest first): every alert still goes out by command.
      ...(alerts ? { alerts: alerts.slice(0, DESIRED_LIMITS.alerts) } : {}),
      // Likewise only when non-empty: states without relays keep their hash and version.
      ...(lives ? { lives: lives.slice(0, DESIRED_LIMITS.lives) } : {}),
      // Not cut: a state with too many relays is refused (desired/check.ts) and the change that made it with it.
      ...(relays.length > 0 ? { relays } : {}),
    }
  }
}

/**
 * JSON with object keys sorted, so equal content always hashes the same whatever the insertion order. `memo`
 * keeps the text of objects (not arrays) already written: the entries and media references states share are then
 * written once per recomputation, not once per cluster.
 */
export function canonicalJson(value: unknown, memo?: WeakMap<object, string>): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, memo)).join(',')}]`
  const known = memo?.get(value)
  if (known !== undefined) return known
  const text = objectJson(value as Record<string, unknown>, memo)
  memo?.set(value, text)
  return text
}

function objectJson(obj: Record<string, unknown>, memo?: WeakMap<object, string>): string {
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k], memo)}`).join(',')}}`
}

/** `memo`: shared across the states of one recomputation (the root object, one per cluster, is not kept). */
export function contentHash(content: DesiredContent, memo?: WeakMap<object, string>): string {
  return createHash('sha256')
    .update(objectJson(content as unknown as Record<string, unknown>, memo))
    .digest('hex')
}
