import type { FastifyRequest } from 'fastify'
import type { Permission } from './actor.js'
import {
  clusterAccess,
  type Decision,
  type Mode,
  type PolicyDeps,
  permissionDecision,
  type TargetsLike,
  targetsAccess,
  unitAccess,
  wholeTreeAccess,
} from './policy.js'

/**
 * The HTTP side of access/policy.ts: reads the request's actor, throws a denial (the error handler answers it),
 * and tells the audit hook which unit an allowed request concerned.
 */

/** What the audit hook learns while a request is checked (the unit it concerned). */
export function noteUnit(request: FastifyRequest, unitId: string | null | undefined): void {
  if (!unitId) return
  request.auditInfo ??= {}
  request.auditInfo.unitId ??= unitId
}

/** Throws a denial; notes the unit of an allowed decision. */
export function enforce(request: FastifyRequest, d: Decision): void {
  if (!d.allow) throw d.error
  noteUnit(request, d.unitId)
}

export function requirePermission(request: FastifyRequest, permission: Permission): void {
  enforce(request, permissionDecision(request.actor, permission))
}

/** read: 404 when outside the scope; act: 403. Also remembers the unit for the audit log. */
export async function assertUnitInScope(
  s: PolicyDeps,
  request: FastifyRequest,
  unitId: string,
  mode: Mode = 'act',
): Promise<void> {
  enforce(request, await unitAccess(s, request.actor, unitId, mode))
}

/** Like assertUnitInScope, for a cluster (by the unit it belongs to); an unknown cluster is 404. */
export async function assertClusterInScope(
  s: PolicyDeps,
  request: FastifyRequest,
  clusterId: string,
  mode: Mode = 'act',
): Promise<void> {
  enforce(request, await clusterAccess(s, request.actor, clusterId, mode))
}

/** Targets of the request must be inside the actor's scope (policy.targetsAccess). */
export async function assertTargetsInScope(
  s: PolicyDeps,
  request: FastifyRequest,
  t: TargetsLike,
): Promise<void> {
  enforce(request, await targetsAccess(s, request.actor, t))
}

/** Province-wide operations: unrestricted actors only. */
export async function requireWholeTree(s: PolicyDeps, request: FastifyRequest): Promise<void> {
  enforce(request, await wholeTreeAccess(s, request.actor))
}
