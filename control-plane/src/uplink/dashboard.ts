import type { Services } from '../context.js'
import { communeGrouper } from '../org/commune-of.js'
import type { Cluster } from '../org/model.js'
import { notFound } from '../server/errors.js'

export type ClusterState = 'online' | 'offline' | 'playing' | 'fault'

interface Counts {
  total: number
  online: number
  offline: number
  playing: number
  fault: number
}

const zero = (): Counts => ({ total: 0, online: 0, offline: 0, playing: 0, fault: 0 })

/**
 * The dashboard of a unit: clusters by state, a roll-up per commune, what needs attention (clusters offline longer
 * than a threshold, clusters that reported an error recently) and positions for the map. A cluster has one state:
 * offline, else fault, else playing, else online; `counts.online` counts every online cluster (playing and faulty too).
 */
export async function buildDashboard(
  s: Pick<Services, 'repos'>,
  q: { unitId?: string; offlineAfterMin: number; faultWindowH: number },
) {
  const { repos } = s
  const units = await repos.units.list()
  let clusters: Cluster[]
  let rootId: string
  if (q.unitId !== undefined) {
    if (!(await repos.units.get(q.unitId))) throw notFound('unit', q.unitId)
    clusters = await repos.clusters.list({ unitIds: await repos.units.subtreeIds(q.unitId) })
    rootId = q.unitId
  } else {
    clusters = await repos.clusters.list()
    const roots = units.filter((u) => u.parentId === null)
    rootId = roots.length === 1 ? (roots[0]?.id as string) : ''
  }
  const groupOf = communeGrouper(rootId, units)
  const name = new Map(units.map((u) => [u.id, u.name]))
  const now = Date.now()
  const faults = new Map<string, { at: string; kind: string; message: string }>()
  for (const f of await repos.reports.recentFaults(
    new Date(now - q.faultWindowH * 3_600_000).toISOString(),
  )) {
    if (!faults.has(f.clusterId)) faults.set(f.clusterId, f)
  }
  const counts = zero()
  const communes = new Map<string, Counts>()
  const alerts: {
    kind: 'offline' | 'fault'
    clusterId: string
    name: string
    unitId: string
    since: string | null
    message: string
  }[] = []
  const list = clusters.map((c) => {
    const fault = faults.get(c.id)
    const state: ClusterState = !c.online ? 'offline' : fault ? 'fault' : c.nowPlaying ? 'playing' : 'online'
    const communeId = groupOf(c.unitId)
    const g = communes.get(communeId) ?? zero()
    communes.set(communeId, g)
    for (const t of [counts, g]) {
      t.total++
      t[state === 'offline' ? 'offline' : 'online']++
      if (state === 'playing') t.playing++
      if (state === 'fault') t.fault++
    }
    const silentMs = c.lastSeenAt ? now - Date.parse(c.lastSeenAt) : Number.POSITIVE_INFINITY
    if (!c.online && silentMs > q.offlineAfterMin * 60_000) {
      alerts.push({
        kind: 'offline',
        clusterId: c.id,
        name: c.name,
        unitId: c.unitId,
        since: c.lastSeenAt,
        message: c.lastSeenAt
          ? `Mất kết nối ${Math.floor(silentMs / 60_000)} phút / offline for ${Math.floor(silentMs / 60_000)} min`
          : 'Chưa từng kết nối / never connected',
      })
    }
    if (fault) {
      alerts.push({
        kind: 'fault',
        clusterId: c.id,
        name: c.name,
        unitId: c.unitId,
        since: fault.at,
        message: `${fault.kind}: ${fault.message}`,
      })
    }
    return {
      id: c.id,
      name: c.name,
      unitId: c.unitId,
      communeId,
      lat: c.lat,
      lon: c.lon,
      state,
      online: c.online,
      lastSeenAt: c.lastSeenAt,
      nowPlaying: c.nowPlaying,
    }
  })
  // Longest silence first; faults by recency.
  alerts.sort((a, b) => (a.since ?? '').localeCompare(b.since ?? ''))
  return {
    counts,
    communes: [...communes.entries()]
      .map(([unitId, c]) => ({ unitId, name: name.get(unitId) ?? unitId, ...c }))
      .sort((a, b) => a.name.localeCompare(b.name, 'vi')),
    alerts,
    clusters: list,
  }
}
