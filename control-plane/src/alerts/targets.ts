import { inCircle, inPolygon } from '../org/geo.js'
import type { ClusterInput, LatLon, Unit } from '../org/model.js'
import type { Repositories } from '../repositories.js'
import type { AlertTargets } from './model.js'

/** Where one alert goes: one publish per unit topic, one per device for everything else. */
export interface ResolvedTargets {
  /** Unit ids whose `cmd` topic reaches their whole subtree in one publish. */
  unitTopics: string[]
  /** Devices reached individually (cluster ids, tags, areas), minus those a unit topic already covers. */
  deviceTopics: string[]
  /** Every cluster targeted, for bookkeeping and desired states. */
  clusterIds: string[]
}

/** Resolves targets against the current tree and cluster list (one snapshot per alert). */
export async function resolveTargets(repos: Repositories, t: AlertTargets): Promise<ResolvedTargets> {
  const [units, clusters] = await Promise.all([repos.units.list(), repos.clusters.listInputs()])
  return resolveFromSnapshot(units, clusters, t)
}

export function resolveFromSnapshot(
  units: Unit[],
  clusters: ClusterInput[],
  t: AlertTargets,
): ResolvedTargets {
  const children = new Map<string, string[]>()
  for (const u of units) {
    if (u.parentId === null) continue
    const list = children.get(u.parentId)
    if (list) list.push(u.id)
    else children.set(u.parentId, [u.id])
  }
  const covered = new Set<string>()
  const stack = [...t.units]
  while (stack.length > 0) {
    const u = stack.pop() as string
    if (covered.has(u)) continue
    covered.add(u)
    stack.push(...(children.get(u) ?? []))
  }
  // A unit inside another targeted unit's subtree needs no publish of its own.
  const topUnits = new Set(t.units)
  const parentOf = new Map(units.map((u) => [u.id, u.parentId]))
  for (const u of t.units) {
    for (let p = parentOf.get(u); p; p = parentOf.get(p)) {
      if (topUnits.has(p)) {
        topUnits.delete(u)
        break
      }
    }
  }
  const byUnit = new Set<string>()
  const individual = new Set<string>()
  const wantedIds = new Set(t.clusters)
  const tags = new Set(t.tags)
  for (const c of clusters) {
    if (covered.has(c.unitId)) {
      byUnit.add(c.id)
      continue
    }
    const pos: LatLon | null = c.lat !== null && c.lon !== null ? [c.lat, c.lon] : null
    if (
      wantedIds.has(c.id) ||
      c.tags.some((x) => tags.has(x)) ||
      (pos !== null && (t.polygons.some((r) => inPolygon(pos, r)) || t.circles.some((x) => inCircle(pos, x))))
    ) {
      individual.add(c.id)
    }
  }
  // Units with no cluster below them need no publish.
  const unitsWithClusters = [...topUnits].filter((u) => {
    const sub = new Set<string>()
    const st = [u]
    while (st.length) {
      const x = st.pop() as string
      sub.add(x)
      st.push(...(children.get(x) ?? []))
    }
    return clusters.some((c) => sub.has(c.unitId))
  })
  return {
    unitTopics: unitsWithClusters.sort(),
    deviceTopics: [...individual].sort(),
    clusterIds: [...byUnit, ...individual].sort(),
  }
}
