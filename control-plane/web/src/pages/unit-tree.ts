import type { User } from '../session'
import type { Unit } from '../types'

/** A unit with its depth below the top of the list (the user's scope), for an indented picker. */
export interface TreeUnit {
  unit: Unit
  depth: number
}

/**
 * The units (the API's list, already limited to the user's scope) in tree order: each unit followed by its
 * children, by name. Units whose parent is not in the list are the tops.
 */
export function unitTree(units: Unit[]): TreeUnit[] {
  const ids = new Set(units.map((u) => u.id))
  const children = new Map<string | null, Unit[]>()
  for (const u of units) {
    const key = u.parentId !== null && ids.has(u.parentId) ? u.parentId : null
    children.set(key, [...(children.get(key) ?? []), u])
  }
  const out: TreeUnit[] = []
  const walk = (parent: string | null, depth: number) => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) => a.name.localeCompare(b.name, 'vi'))
    for (const u of list) {
      out.push({ unit: u, depth })
      walk(u.id, depth + 1)
    }
  }
  walk(null, 0)
  return out
}

/** An option label indented by depth (a <select> cannot hold markup). */
export const treeLabel = (t: TreeUnit): string => `${'\u00a0\u00a0'.repeat(t.depth)}${t.unit.name}`

/**
 * Whether the user administers the whole tree (no scope, or the scope is a root): only then may it grant a
 * whole-province scope or rotate the signing key. The API decides anyway; this only hides what it would refuse.
 */
export function administersWholeTree(user: User, units: Unit[]): boolean {
  if (user.scopeUnitId === null) return true
  return units.find((u) => u.id === user.scopeUnitId)?.parentId === null
}
