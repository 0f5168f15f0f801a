import { Type } from '@fastify/type-provider-typebox'
import { EntityId } from '@loa/shared'
import type { Repositories } from '../repositories.js'
import type { LoaError } from '../server/errors.js'
import type { Targets } from './model.js'

/** `{units?, clusters?, tags?}` as schedules, relays and live relays take it. */
export const TargetsBody = Type.Object(
  {
    units: Type.Optional(Type.Array(EntityId, { maxItems: 1000 })),
    clusters: Type.Optional(Type.Array(EntityId, { maxItems: 10_000 })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
)

/** De-duplicated targets; at least one unit, cluster or tag. */
export function plainTargets(
  t: { units?: string[]; clusters?: string[]; tags?: string[] },
  bad: (message: string) => LoaError,
): Targets {
  const targets: Targets = {
    units: [...new Set(t.units ?? [])],
    clusters: [...new Set(t.clusters ?? [])],
    tags: [...new Set(t.tags ?? [])],
  }
  if (targets.units.length + targets.clusters.length + targets.tags.length === 0) {
    throw bad('targets: at least one unit, cluster or tag is required')
  }
  return targets
}

/** Every named unit and cluster must exist; the error names the first missing one, e.g. `targets.units[0]`. */
export async function checkTargetsExist(
  repos: Repositories,
  t: { units: string[]; clusters: string[] },
  bad: (message: string) => LoaError,
): Promise<void> {
  for (const [i, id] of t.units.entries()) {
    if (!(await repos.units.get(id))) throw bad(`targets.units[${i}]: unit "${id}" not found`)
  }
  const found = await repos.clusters.exists(t.clusters)
  const missing = t.clusters.findIndex((id) => !found.has(id))
  if (missing >= 0) throw bad(`targets.clusters[${missing}]: cluster "${t.clusters[missing]}" not found`)
}
