import { get } from '../api'
import type { NowPlaying, Unit } from '../types'
import type { ClusterState } from '../ui/badge'

/** GET /api/dashboard (docs/api.md): computed by the control plane inside the user's scope. */
interface DashboardAnswer {
  communes: { unitId: string; name: string }[]
  alerts: {
    kind: 'offline' | 'fault'
    clusterId: string
    name: string
    since: string | null
    message: string
  }[]
  clusters: {
    id: string
    name: string
    unitId: string
    communeId: string
    lat: number | null
    lon: number | null
    state: ClusterState
    lastSeenAt: string | null
    nowPlaying: NowPlaying | null
  }[]
}

export type ClusterRow = DashboardAnswer['clusters'][number] & { unitName: string; communeName: string }
export type Alert = DashboardAnswer['alerts'][number]

export interface CommuneRow {
  id: string
  name: string
  total: number
  counts: Record<ClusterState, number>
}

export interface DashboardData {
  at: string
  clusters: ClusterRow[]
  /** Exclusive: every cluster is counted once, in its one state (so the four add up to the total). */
  counts: Record<ClusterState, number>
  communes: CommuneRow[]
  alerts: Alert[]
}

const zero = (): Record<ClusterState, number> => ({ online: 0, offline: 0, playing: 0, fault: 0 })

/** The dashboard's figures; the alerts are the server's (offline over 30 min, an error in the last 24 h). */
export async function loadDashboard(): Promise<DashboardData> {
  const [d, { units }] = await Promise.all([
    get<DashboardAnswer>('/api/dashboard'),
    get<{ units: Unit[] }>('/api/units'),
  ])
  const unitName = new Map(units.map((u) => [u.id, u.name]))
  const communeName = new Map(d.communes.map((c) => [c.unitId, c.name]))
  const counts = zero()
  const communes = new Map<string, CommuneRow>()
  const clusters: ClusterRow[] = d.clusters.map((c) => {
    const name = communeName.get(c.communeId) ?? unitName.get(c.communeId) ?? c.communeId
    counts[c.state]++
    const row = communes.get(c.communeId) ?? { id: c.communeId, name, total: 0, counts: zero() }
    row.total++
    row.counts[c.state]++
    communes.set(c.communeId, row)
    return { ...c, unitName: unitName.get(c.unitId) ?? c.unitId, communeName: name }
  })
  clusters.sort((a, b) => a.name.localeCompare(b.name, 'vi'))
  return {
    at: new Date().toISOString(),
    clusters,
    counts,
    communes: [...communes.values()].sort((a, b) => a.name.localeCompare(b.name, 'vi')),
    alerts: d.alerts,
  }
}
