import type { Cluster, DeviceEvent } from './types'
import type { ClusterState } from './ui/badge'

/** A cluster with an error event this recent counts as faulty (the same window as GET /api/dashboard). */
export const FAULT_WINDOW_MS = 24 * 3_600_000

const FAULT_SEVERITIES = new Set(['error', 'critical'])

/** Cluster ids whose latest error/critical event is within the window. */
export function faultyClusters(events: DeviceEvent[], now = Date.now()): Map<string, DeviceEvent> {
  const out = new Map<string, DeviceEvent>()
  for (const e of events) {
    if (!e.clusterId || !FAULT_SEVERITIES.has(e.severity)) continue
    if (now - Date.parse(e.at) > FAULT_WINDOW_MS) continue
    const prev = out.get(e.clusterId)
    if (!prev || prev.at < e.at) out.set(e.clusterId, e)
  }
  return out
}

/** One state per cluster, worst first: offline, then fault, then playing, else online. */
export function clusterState(c: Cluster, faults: Map<string, DeviceEvent>): ClusterState {
  if (!c.online) return 'offline'
  if (faults.has(c.id)) return 'fault'
  if (c.nowPlaying) return 'playing'
  return 'online'
}
