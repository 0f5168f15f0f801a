import { useEffect, useState } from 'preact/hooks'
import { contentApi } from './content-api'
import type { Cluster, Targets, Unit } from './content-types'

/** A target as one select value: `unit:<id>` or `cluster:<id>`. */
export type TargetKey = `unit:${string}` | `cluster:${string}`

export function targetsOf(key: TargetKey | ''): Targets {
  if (key.startsWith('unit:')) return { units: [key.slice(5)] }
  if (key.startsWith('cluster:')) return { clusters: [key.slice(8)] }
  return {}
}

/** Units in tree order with their depth, so a list can indent them; from `rootId` down when given. */
export function unitTree(units: Unit[], rootId: string | null = null): { unit: Unit; depth: number }[] {
  const known = new Set(units.map((u) => u.id))
  const children = new Map<string | null, Unit[]>()
  for (const u of units) {
    const parent = u.parentId !== null && known.has(u.parentId) ? u.parentId : null
    children.set(parent, [...(children.get(parent) ?? []), u])
  }
  const out: { unit: Unit; depth: number }[] = []
  const walk = (parent: string | null, depth: number) => {
    for (const u of (children.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name, 'vi'))) {
      out.push({ unit: u, depth })
      walk(u.id, depth + 1)
    }
  }
  const root = rootId === null ? undefined : units.find((u) => u.id === rootId)
  if (root) {
    out.push({ unit: root, depth: 0 })
    walk(root.id, 1)
  } else walk(null, 0)
  return out
}

/** The units and clusters the operator may see (the API already limits them to the operator's subtree). */
export function useTree(): { units: Unit[]; clusters: Cluster[] } {
  const [tree, setTree] = useState<{ units: Unit[]; clusters: Cluster[] }>({ units: [], clusters: [] })
  useEffect(() => {
    void Promise.all([contentApi.listUnits(), contentApi.listClusters()])
      .then(([units, clusters]) => setTree({ units, clusters }))
      .catch(() => {})
  }, [])
  return tree
}

export function TargetSelect(props: {
  value: TargetKey | ''
  onChange(v: TargetKey | ''): void
  units: Unit[]
  clusters: Cluster[]
  labels: { unit: string; cluster: string }
  testId?: string
  id?: string
}) {
  return (
    <select
      id={props.id}
      value={props.value}
      data-testid={props.testId}
      onChange={(e) => props.onChange(e.currentTarget.value as TargetKey | '')}
    >
      <option value="">—</option>
      <optgroup label={props.labels.unit}>
        {unitTree(props.units).map(({ unit, depth }) => (
          <option key={unit.id} value={`unit:${unit.id}`}>
            {'\u00a0\u00a0'.repeat(depth)}
            {unit.name}
          </option>
        ))}
      </optgroup>
      <optgroup label={props.labels.cluster}>
        {[...props.clusters]
          .sort((a, b) => a.name.localeCompare(b.name, 'vi'))
          .map((c) => (
            <option key={c.id} value={`cluster:${c.id}`}>
              {c.name}
            </option>
          ))}
      </optgroup>
    </select>
  )
}
