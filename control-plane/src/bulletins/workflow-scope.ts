import type { Actor } from '../access/actor.js'
import { scopeUnitIds } from '../access/policy.js'
import type { Services } from '../context.js'
import { forbidden } from '../server/errors.js'

/**
 * The workflow acts for a unit (a bulletin's, an inbox's, a programme's): a scoped actor only inside its subtree.
 * Something that belongs to no unit (a province-wide bulletin) is for unrestricted actors only.
 */
export async function assertActsOn(
  s: Pick<Services, 'repos'>,
  actor: Actor,
  unitId: string | null,
  what: string,
): Promise<void> {
  const scope = await scopeUnitIds(s, actor)
  if (scope === null) return
  if (unitId === null) throw forbidden(`${what}: belongs to no unit; only province-wide users may act on it`)
  if (!scope.has(unitId)) throw forbidden(`${what}: unit "${unitId}" is outside your scope`)
}

/** A scoped actor's own unit as the default for things it creates. */
export async function defaultUnit(
  s: Pick<Services, 'repos'>,
  actor: Actor,
  unitId: string | undefined,
): Promise<string | undefined> {
  if (unitId !== undefined) return unitId
  return (await scopeUnitIds(s, actor)) === null ? undefined : (actor.scopeUnitId ?? undefined)
}
