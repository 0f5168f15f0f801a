import type { FastifyRequest } from 'fastify'
import type { Services } from '../context.js'
import { forbidden, notFound } from '../server/errors.js'
import type { Actor, Permission, Role } from './actor.js'

/**
 * Authorisation (docs/users-and-roles.md): a role grants permissions, a scope (a unit and its subtree) limits
 * where they apply. Lists are filtered to the scope; a single resource outside it reads as 404 (its existence is
 * not revealed); acting on targets outside it is 403.
 */

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

export function requirePermission(request: FastifyRequest, permission: Permission): void {
  if (!can(request.actor, permission)) throw forbidden(`permission "${permission}" required`)
}

/** What the audit hook learns while a request is checked (the unit it concerned). */
export function noteUnit(request: FastifyRequest, unitId: string | null | undefined): void {
  if (!unitId) return
  request.auditInfo ??= {}
  request.auditInfo.unitId ??= unitId
}

const scopes = new WeakMap<Actor, Promise<Set<string> | null>>()

/**
 * Unit ids the actor may see and act on (its scope unit's subtree); null = unrestricted: no scope, or the scope is
 * the root of the only tree (a province's users in a one-province installation). Memoised per actor (per request).
 */
export function scopeUnitIds(s: Services, actor: Actor): Promise<Set<string> | null> {
  let p = scopes.get(actor)
  if (!p) {
    const root = actor.scopeUnitId
    p = root === null ? Promise.resolve(null) : subtreeUnlessWholeTree(s, root)
    scopes.set(actor, p)
  }
  return p
}

async function subtreeUnlessWholeTree(s: Services, root: string): Promise<Set<string> | null> {
  const units = await s.repos.units.list()
  const roots = units.filter((u) => u.parentId === null)
  if (roots.length === 1 && roots[0]?.id === root) return null
  return new Set(await s.repos.units.subtreeIds(root))
}

/** Whether the actor may see the unit. */
export async function unitInScope(s: Services, actor: Actor, unitId: string): Promise<boolean> {
  const scope = await scopeUnitIds(s, actor)
  return scope === null || scope.has(unitId)
}

type Mode = 'read' | 'act'

/** read: 404 when outside the scope; act: 403. Also remembers the unit for the audit log. */
export async function assertUnitInScope(
  s: Services,
  request: FastifyRequest,
  unitId: string,
  mode: Mode = 'act',
): Promise<void> {
  if (!(await unitInScope(s, request.actor, unitId))) {
    throw mode === 'read' ? notFound('unit', unitId) : forbidden(`unit "${unitId}" is outside your scope`)
  }
  noteUnit(request, unitId)
}

/** Like assertUnitInScope, for a cluster (by the unit it belongs to); an unknown cluster is 404 in read mode. */
export async function assertClusterInScope(
  s: Services,
  request: FastifyRequest,
  clusterId: string,
  mode: Mode = 'act',
): Promise<void> {
  const c = await s.repos.clusters.get(clusterId)
  const ok = c !== null && (await unitInScope(s, request.actor, c.unitId))
  if (!ok) {
    if (mode === 'read' || c === null) throw notFound('cluster', clusterId)
    throw forbidden(`cluster "${clusterId}" is outside your scope`)
  }
  noteUnit(request, c.unitId)
}

/** The items of a list that belong to a unit of the actor's subtree (all of them for an unrestricted actor). */
export async function filterUnits<T>(s: Services, actor: Actor, items: T[], unitOf: (t: T) => string | null) {
  const scope = await scopeUnitIds(s, actor)
  if (scope === null) return items
  return items.filter((t) => {
    const u = unitOf(t)
    return u !== null && scope.has(u)
  })
}

const clusterScopes = new WeakMap<Actor, Promise<Set<string> | null>>()

/** Cluster ids inside the actor's scope; null = unrestricted. Memoised per actor (a list checks it per item). */
export function clusterIdsInScope(s: Services, actor: Actor): Promise<Set<string> | null> {
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
export async function assertTargetsInScope(
  s: Services,
  request: FastifyRequest,
  t: TargetsLike,
): Promise<void> {
  const scope = await scopeUnitIds(s, request.actor)
  const firstUnit = t.units?.[0]
  if (scope === null) {
    if (firstUnit) noteUnit(request, firstUnit)
    return
  }
  if (
    (t.tags?.length ?? 0) > 0 ||
    t.area !== undefined ||
    (t.polygons?.length ?? 0) + (t.circles?.length ?? 0) > 0
  ) {
    throw forbidden(
      'targets: tags and areas reach the whole province; target units or clusters of your scope',
    )
  }
  for (const [i, u] of (t.units ?? []).entries()) {
    if (!scope.has(u)) throw forbidden(`targets.units[${i}]: unit "${u}" is outside your scope`)
  }
  const inScope = await clusterIdsInScope(s, request.actor)
  for (const [i, c] of (t.clusters ?? []).entries()) {
    if (!inScope?.has(c)) throw forbidden(`targets.clusters[${i}]: cluster "${c}" is outside your scope`)
  }
  if (firstUnit) noteUnit(request, firstUnit)
  else if (t.clusters?.[0]) noteUnit(request, (await s.repos.clusters.get(t.clusters[0]))?.unitId)
}

/**
 * Whether something aimed at these targets concerns the actor's scope: a named unit inside it or above it (a
 * province-wide schedule plays in every commune), or a targeted cluster inside it.
 */
export async function targetsVisible(
  s: Services,
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

async function isAncestor(s: Services, ancestor: string, unitId: string): Promise<boolean> {
  let u = await s.repos.units.get(unitId)
  for (let depth = 0; u?.parentId && depth < 64; depth++) {
    if (u.parentId === ancestor) return true
    u = await s.repos.units.get(u.parentId)
  }
  return false
}

/** Whether the actor may see the cluster (false for an unknown one). */
export async function clusterVisible(s: Services, actor: Actor, clusterId: string): Promise<boolean> {
  const c = await s.repos.clusters.get(clusterId)
  return c !== null && (await unitInScope(s, actor, c.unitId))
}

/** Province-wide operations (the broker's files, the signing key, tree imports): unrestricted actors only. */
export async function requireWholeTree(s: Services, request: FastifyRequest): Promise<void> {
  if ((await scopeUnitIds(s, request.actor)) !== null) {
    throw forbidden('this operation concerns the whole province: your scope is a part of it')
  }
}
