/**
 * Who is making a request. Every route sees `request.actor`; authentication (sessions, API tokens, device
 * credentials) decides it, `access/policy.ts` checks it. Roles and scopes are documented in docs/users-and-roles.md.
 */
export type Role = 'province-admin' | 'province-operator' | 'commune-operator' | 'viewer'

/** What an actor may do, before scope is considered. */
export type Permission =
  | 'read'
  /** media, TTS, bulletins, playlists, schedules, inbox accept/decline */
  | 'content'
  /** approve a draft bulletin for broadcast */
  | 'approve'
  /** start/stop live relays, send test commands */
  | 'live'
  /** raise and cancel emergency alerts */
  | 'emergency'
  /** units, clusters, devices, credentials */
  | 'admin-devices'
  /** users, roles, API tokens */
  | 'admin-users'
  /** read the audit log (within scope) */
  | 'audit'

export interface Actor {
  kind: 'user' | 'token' | 'device' | 'system'
  /** user id, API token id, device id, or 'system' */
  id: string
  /** display name, for the audit log */
  name: string
  role: Role | 'device' | 'system'
  /** Root of the administrative subtree the actor may see and act on. */
  scopeUnitId: string | null
}

/** The actor used by in-process callers (CAP ingest, the scheduler): unrestricted. */
export const SYSTEM_ACTOR: Actor = {
  kind: 'system',
  id: 'system',
  name: 'system',
  role: 'system',
  scopeUnitId: null,
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor
  }
}
