import type { ClusterInput } from '../org/model.js'
import { LoaError } from '../server/errors.js'
import type { DesiredProblem } from './check.js'
import type { ClusterScope } from './state.js'

/** The desired service's bookkeeping: what is dirty, who waits for the next recomputation, what it refused. */

/** A cluster whose newest compiled state breaks a limit the agents enforce: it keeps its last valid version. */
export interface ClusterProblem extends DesiredProblem {
  clusterId: string
  unitId: string
  /** The version the cluster keeps (null: it never had a valid one). */
  keptVersion: number | null
  since: string
  /** Recorded as the cluster's event (not an operator's change refused and undone). */
  reported: boolean
}

/** Clusters to recompute; bounded by the number of clusters, units and tags however many changes are marked. */
export class Marks {
  all = false
  readonly clusterIds = new Set<string>()
  readonly units = new Set<string>()
  readonly tags = new Set<string>()

  /** Returns false when the scope names nothing. */
  add(scope?: readonly string[] | ClusterScope): boolean {
    if (scope === undefined) {
      this.all = true
      return true
    }
    const s: ClusterScope = Array.isArray(scope) ? { clusterIds: scope } : (scope as ClusterScope)
    const before = this.clusterIds.size + this.units.size + this.tags.size
    for (const id of s.clusterIds ?? []) this.clusterIds.add(id)
    for (const u of s.units ?? []) this.units.add(u)
    for (const t of s.tags ?? []) this.tags.add(t)
    return this.clusterIds.size + this.units.size + this.tags.size > before || !this.empty
  }

  get empty(): boolean {
    return !this.all && this.clusterIds.size === 0 && this.units.size === 0 && this.tags.size === 0
  }
}

/** One recomputation's refusals, with the cluster (and its unit chain) to match them against callers' scopes. */
export type PassProblems = Map<string, { problem: ClusterProblem; cluster: ClusterInput; chain: string[] }>

export interface Waiting {
  promise: Promise<PassProblems>
  resolve: (p: PassProblems) => void
  /** Scopes of `admit` calls waiting for this pass: their refusals are answered to the operator, not recorded. */
  admitting: ClusterScope[]
}

export function waiting(): Waiting {
  let resolve: (p: PassProblems) => void = () => {}
  const promise = new Promise<PassProblems>((r) => {
    resolve = r
  })
  return { promise, resolve, admitting: [] }
}

export const asScope = (scope?: readonly string[] | ClusterScope): ClusterScope | undefined =>
  scope === undefined || !Array.isArray(scope) ? (scope as ClusterScope | undefined) : { clusterIds: scope }

/** The operator's answer when a change would build a state the agents refuse (the change is undone first). */
export function desiredLimitError(problems: ClusterProblem[]): LoaError {
  const [p] = problems as [ClusterProblem]
  const [field, ...rest] = p.detail.split(': ')
  const what = p.limit === 'schema' ? `a state its agent refuses (${rest.join(': ')})` : rest.join(': ')
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more cluster(s))` : ''
  return new LoaError(
    'LOA_DESIRED_LIMIT',
    `${field}: cluster "${p.clusterId}" (unit "${p.unitId}") would get ${what}${more}; the change was not made`,
  )
}
