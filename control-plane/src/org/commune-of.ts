import type { Unit } from './model.js'

/** Unit kinds that count as a commune-level unit (xã, phường, thị trấn, đặc khu), in English or Vietnamese. */
const COMMUNE_KIND = /^(commune|ward|township|special[- ]?zone|xã|xa|phường|phuong|thị trấn|đặc khu)$/i

export const isCommune = (u: Unit) => COMMUNE_KIND.test(u.kind.trim())

/**
 * Groups a subtree's units by commune for roll-ups and reports: a unit belongs to its nearest commune-level ancestor
 * (or itself); where there is none below the root (e.g. a district with clusters of its own), to the root's child on
 * its path, or to the root itself. The tree has no fixed depth, so kinds decide, not levels.
 */
export function communeGrouper(rootId: string, units: Unit[]): (unitId: string) => string {
  const byId = new Map(units.map((u) => [u.id, u]))
  const cache = new Map<string, string>()
  return (unitId) => {
    const hit = cache.get(unitId)
    if (hit) return hit
    const path: Unit[] = []
    const seen = new Set<string>()
    for (let u = byId.get(unitId); u && !seen.has(u.id); u = u.parentId ? byId.get(u.parentId) : undefined) {
      seen.add(u.id)
      path.push(u)
      if (u.id === rootId) break
    }
    const commune = path.find(isCommune)
    const group = commune?.id ?? (path.length >= 2 ? (path[path.length - 2] as Unit).id : rootId)
    cache.set(unitId, group)
    return group
  }
}
