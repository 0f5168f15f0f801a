import { get } from '../api'
import { clusterState, communeOf, faultyClusters, unitMap } from '../clusters'
import type { Cluster, DeviceEvent, Unit } from '../types'
import type { ClusterState } from '../ui/badge'

/** A cluster offline longer than this is an alert on the dashboard. */
export const OFFLINE_ALERT_MS = 15 * 60_000

export interface ClusterRow extends Cluster {
  state: ClusterState
  unitName: string
  commune: Unit | null
  fault: DeviceEvent | undefined
}

export interface CommuneRow {
  id: string
  name: string
  total: number
  counts: Record<ClusterState, number>
}

export interface DashboardData {
  at: string
  clusters: ClusterRow[]
  counts: Record<ClusterState, number>
  communes: CommuneRow[]
  alerts: { clusterId: string; kind: 'offline' | 'fault'; cluster: ClusterRow }[]
}

const zero = (): Record<ClusterState, number> => ({ online: 0, offline: 0, playing: 0, fault: 0 })

/** Everything the dashboard shows, from the scoped lists of the API (a commune operator sees only its own). */
export async function loadDashboard(): Promise<DashboardData> {
  const [{ units }, { clusters }, { events }] = await Promise.all([
    get<{ units: Unit[] }>('/api/units'),
    get<{ clusters: Cluster[] }>('/api/clusters'),
    get<{ events: DeviceEvent[] }>('/api/events?limit=500'),
  ])
  const byId = unitMap(units)
  const faults = faultyClusters(events)
  const rows: ClusterRow[] = clusters.map((c) => ({
    ...c,
    state: clusterState(c, faults),
    unitName: byId.get(c.unitId)?.name ?? c.unitId,
    commune: communeOf(c.unitId, byId),
    fault: faults.get(c.id),
  }))
  rows.sort((a, b) => a.name.localeCompare(b.name, 'vi'))
  const counts = zero()
  const communes = new Map<string, CommuneRow>()
  for (const r of rows) {
    counts[r.state]++
    const key = r.commune?.id ?? r.unitId
    const row = communes.get(key) ?? {
      id: key,
      name: r.commune?.name ?? r.unitName,
      total: 0,
      counts: zero(),
    }
    row.total++
    row.counts[r.state]++
    communes.set(key, row)
  }
  const now = Date.now()
  const alerts: DashboardData['alerts'] = []
  for (const r of rows) {
    if (r.state === 'offline' && (!r.lastSeenAt || now - Date.parse(r.lastSeenAt) > OFFLINE_ALERT_MS)) {
      alerts.push({ clusterId: r.id, kind: 'offline', cluster: r })
    } else if (r.state === 'fault') alerts.push({ clusterId: r.id, kind: 'fault', cluster: r })
  }
  return {
    at: new Date().toISOString(),
    clusters: rows,
    counts,
    communes: [...communes.values()].sort((a, b) => a.name.localeCompare(b.name, 'vi')),
    alerts,
  }
}
