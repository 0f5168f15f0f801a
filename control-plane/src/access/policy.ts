import type { ClusterRepository, UnitRepository } from '../org/repository.js'
import { forbidden, type LoaError, notFound } from '../server/errors.js'
import type { Actor, Permission, Role } from './actor.js'

/**
 * Authorisation (docs/users-and-roles.md): a role grants permissions, a scope (a unit and its subtree) limits
 * where they apply. Lists are filtered to the scope; a single resource outside it reads as 404 (its existence is
 * not revealed); acting on targets outside it is 403.
 *
 * Plain code: functions take an actor and the unit tree and return decisions; access/request-policy.ts applies
 * them to a request (throws the denial, notes the unit for the audit log).
 */

/** What policy reads: the unit tree and where clusters hang in it (Services satisfies it). */
export interface PolicyDeps {
  repos: {
    units: Pick<UnitRepository, 'get' | 'list' | 'subtreeIds'>
    clusters: Pick<ClusterRepository, 'get' | 'list'>
  }
}

/** Allowed (with the unit it concerned, for the audit log), or denied with the error to answer. */
export type Decision = { allow: true; unitId: string | null } | { allow: false; error: LoaError }

const allow = (unitId: string | null | undefined = null): Decision => ({
  allow: true,
  unitId: unitId ?? null,
})
const deny = (error: LoaError): Decision => ({ allow: false, error })

const OPERATOR: Permission[] = ['read', 'content', 'approve', 'live', 'emergency', 'audit']
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  'province-admin': [...OPERATOR, 'admin-devices', 'admin-users'],
  'province-operator': OPERATOR,
  'commune-operator': OPERATOR,
  viewer: ['read'],
}
export const ROLES = Object.keys(ROLE_PERMISSIONS) as Role[]
const ALL: Permission[] = ROLE_PERMISSIONS['province-admin'] as Permission[]

export function permissionsOf(actor: Actor | null | undefined): Permission[] {
  if (!actor) return []
  if (actor.role === 'system') return [...ALL]
  // Devices get no permission: the routes they may use say so themselves (config.device).
  if (actor.role === 'device') return []
  return [...ROLE_PERMISSIONS[actor.role]]
}

export function can(actor: Actor | null | undefined, permission: Permission): boolean {
  return permissionsOf(actor).includes(permission)
}

export function permissionDecision(actor: Actor | null | undefined, permission: Permission): Decision {
  return can(actor, permission) ? allow() : deny(forbidden(`permission "${permission}" required`))
}

const scopes = new WeakMap<Actor, Promise<Set<string> | null>>()

/**
 * Unit ids the actor may see and act on (its scope unit's subtree); null = unrestricted: no scope, or the scope is
 * the root of the only tree (a province's users in a one-province installation). Memoised per actor (per request).
 */
export function scopeUnitIds(s: PolicyDeps, actor: Actor): Promise<Set<string> | null> {
  let p = scopes.get(actor)
  if (!p) {
    const root = actor.scopeUnitId
    p = root === null ? Promise.resolve(null) : subtreeUnlessWholeTree(s, root)
    scopes.set(actor, p)
  }
  return p
}

async function subtreeUnlessWholeTree(s: PolicyDeps, root: string): Promise<Set<string> | null> {
  const units = await s.repos.units.list()
  const roots = units.filter((u) => u.parentId === null)
  if (roots.length === 1 && roots[0]?.id === root) return null
  return new Set(await s.repos.units.subtreeIds(root))
}

/** Whether the actor may see the unit. */
export async function unitInScope(s: PolicyDeps, actor: Actor, unitId: string): Promise<boolean> {
  const scope = await scopeUnitIds(s, actor)
  return scope === null || scope.has(unitId)
}

export type Mode = 'read' | 'act'

/** read: 404 when outside the scope; act: 403. */
export async function unitAccess(
  s: PolicyDeps,
  actor: Actor,
  unitId: string,
  mode: Mode = 'act',
): Promise<Decision> {
  if (await unitInScope(s, actor, unitId)) return allow(unitId)
  return deny(
    mode === 'read' ? notFound('unit', unitId) : forbidden(`unit "${unitId}" is outside your scope`),
  )
}

/** Like unitAccess, for a cluster (by the unit it belongs to); an unknown cluster is 404 in either mode. */
export async function clusterAccess(
  s: PolicyDeps,
  actor: Actor,
  clusterId: string,
  mode: Mode = 'act',
): Promise<Decision> {
  const c = await s.repos.clusters.get(clusterId)
  if (c !== null && (await unitInScope(s, actor, c.unitId))) return allow(c.unitId)
  if (mode === 'read' || c === null) return deny(notFound('cluster', clusterId))
  return deny(forbidden(`cluster "${clusterId}" is outside your scope`))
}

/** The items of a list that belong to a unit of the actor's subtree (all of them for an unrestricted actor). */
export async function filterUnits<T>(
  s: PolicyDeps,
  actor: Actor,
  items: T[],
  unitOf: (t: T) => string | null,
) {
  const scope = await scopeUnitIds(s, actor)
  if (scope === null) return items
  return items.filter((t) => {
    const u = unitOf(t)
    return u !== null && scope.has(u)
  })
}

const clusterScopes = new WeakMap<Actor, Promise<Set<string> | null>>()

/** Cluster ids inside the actor's scope; null = unrestricted. Memoised per actor (a list checks it per item). */
export function clusterIdsInScope(s: PolicyDeps, actor: Actor): Promise<Set<string> | null> {
  let p = clusterScopes.get(actor)
  if (!p) {
    p = scopeUnitIds(s, actor).then(async (scope) =>
      scope === null
        ? null
        : new Set((await s.repos.clusters.list({ unitIds: [...scope] })).map((c) => c.id)),
    )
    clusterScopes.set(actor, p)
  }
  return p
}

export interface TargetsLike {
  units?: readonly string[]
  clusters?: readonly string[]
  tags?: readonly string[]
  /** Alert areas (polygon, circle) in any shape: only their presence matters here. */
  area?: unknown
  polygons?: readonly unknown[]
  circles?: readonly unknown[]
}

/**
 * A scoped actor may target only units and clusters inside its subtree (403 otherwise, checked before existence
 * so nothing is revealed). Tags and areas select clusters province-wide, including ones added later, so they are
 * reserved to unrestricted actors.
 */
export async function targetsAccess(s: PolicyDeps, actor: Actor, t: TargetsLike): Promise<Decision> {
  const scope = await scopeUnitIds(s, actor)
  const firstUnit = t.units?.[0]
  if (scope === null) return allow(firstUnit)
  if (
    (t.tags?.length ?? 0) > 0 ||
    t.area !== undefined ||
    (t.polygons?.length ?? 0) + (t.circles?.length ?? 0) > 0
  ) {
    return deny(
      forbidden('targets: tags and areas reach the whole province; target units or clusters of your scope'),
    )
  }
  for (const [i, u] of (t.units ?? []).entries()) {
    if (!scope.has(u)) return deny(forbidden(`targets.units[${i}]: unit "${u}" is outside your scope`))
  }
  const inScope = await clusterIdsInScope(s, actor)
  for (const [i, c] of (t.clusters ?? []).entries()) {
    if (!inScope?.has(c))
      return deny(forbidden(`targets.clusters[${i}]: cluster "${c}" is outside your scope`))
  }
  if (firstUnit) return allow(firstUnit)
  const firstCluster = t.clusters?.[0]
  return allow(firstCluster ? (await s.repos.clusters.get(firstCluster))?.unitId : null)
}

/**
 * Whether something aimed at these targets concerns the actor's scope: a named unit inside it or above it (a
 * province-wide schedule plays in every commune), or a targeted cluster inside it.
 */
export async function targetsVisible(
  s: PolicyDeps,
  actor: Actor,
  t: TargetsLike,
  targetedClusterIds?: readonly string[],
): Promise<boolean> {
  const scope = await scopeUnitIds(s, actor)
  if (scope === null) return true
  const root = actor.scopeUnitId as string
  for (const u of t.units ?? []) {
    if (scope.has(u) || (await isAncestor(s, u, root))) return true
  }
  const inScope = (await clusterIdsInScope(s, actor)) as Set<string>
  const clusters = [...(t.clusters ?? []), ...(targetedClusterIds ?? [])]
  if (clusters.some((c) => inScope.has(c))) return true
  if ((t.tags?.length ?? 0) > 0 && targetedClusterIds === undefined) {
    const tags = new Set(t.tags)
    const mine = await s.repos.clusters.list({ unitIds: [...scope] })
    return mine.some((c) => c.tags.some((x) => tags.has(x)))
  }
  return false
}

async function isAncestor(s: PolicyDeps, ancestor: string, unitId: string): Promise<boolean> {
  let u = await s.repos.units.get(unitId)
  for (let depth = 0; u?.parentId && depth < 64; depth++) {
    if (u.parentId === ancestor) return true
    u = await s.repos.units.get(u.parentId)
  }
  return false
}

/** Whether the actor may see the cluster (false for an unknown one). */
export async function clusterVisible(s: PolicyDeps, actor: Actor, clusterId: string): Promise<boolean> {
  const c = await s.repos.clusters.get(clusterId)
  return c !== null && (await unitInScope(s, actor, c.unitId))
}

/** Province-wide operations (the broker's files, the signing key, tree imports): unrestricted actors only. */
export async function wholeTreeAccess(s: PolicyDeps, actor: Actor): Promise<Decision> {
  if ((await scopeUnitIds(s, actor)) === null) return allow()
  return deny(forbidden('this operation concerns the whole province: your scope is a part of it'))
}
