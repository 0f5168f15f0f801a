import { describe, expect, it } from 'vitest'
import type { Cluster, Unit } from '../org/model.js'
import type { Actor, Role } from './actor.js'
import {
  can,
  clusterAccess,
  type Decision,
  type PolicyDeps,
  permissionDecision,
  scopeUnitIds,
  targetsAccess,
  targetsVisible,
  unitAccess,
  wholeTreeAccess,
} from './policy.js'

/** The policy as plain code: an in-memory unit tree, actors as values, decisions checked without HTTP. */

// province ─ district ─ commune-a (cluster ca, tag "river")
//                     └ commune-b (cluster cb, tag "river")
const units: Unit[] = [
  { id: 'province', parentId: null, name: 'P', kind: 'province', code: null, createdAt: '' },
  { id: 'district', parentId: 'province', name: 'D', kind: 'district', code: null, createdAt: '' },
  { id: 'commune-a', parentId: 'district', name: 'A', kind: 'commune', code: null, createdAt: '' },
  { id: 'commune-b', parentId: 'district', name: 'B', kind: 'commune', code: null, createdAt: '' },
]
const clusters = [
  { id: 'ca', unitId: 'commune-a', tags: ['river'] },
  { id: 'cb', unitId: 'commune-b', tags: ['river'] },
] as unknown as Cluster[] // only id, unitId and tags matter to the policy

const subtree = (id: string): string[] => [
  id,
  ...units.filter((u) => u.parentId === id).flatMap((u) => subtree(u.id)),
]

const deps: PolicyDeps = {
  repos: {
    units: {
      get: async (id) => units.find((u) => u.id === id) ?? null,
      list: async () => units,
      subtreeIds: async (id) => subtree(id),
    },
    clusters: {
      get: async (id) => clusters.find((c) => c.id === id) ?? null,
      list: async (f) => clusters.filter((c) => !f?.unitIds || f.unitIds.includes(c.unitId)),
    },
  },
}

// A new object each time: scopes are memoised per actor.
const actor = (role: Role, scopeUnitId: string | null): Actor => ({
  kind: 'user',
  id: `${role}@${scopeUnitId}`,
  name: role,
  role,
  scopeUnitId,
})

const deniedWith = (d: Decision) => (d.allow ? null : { code: d.error.code, status: d.error.statusCode })

describe('policy without HTTP', () => {
  it('roles grant permissions; devices and viewers get little', () => {
    expect(can(actor('viewer', null), 'read')).toBe(true)
    expect(can(actor('viewer', null), 'content')).toBe(false)
    expect(can(actor('province-admin', null), 'admin-users')).toBe(true)
    expect(can(actor('province-operator', null), 'admin-users')).toBe(false)
    const device: Actor = { kind: 'device', id: 'd1', name: 'd1', role: 'device', scopeUnitId: null }
    expect(can(device, 'read')).toBe(false)
    expect(can(null, 'read')).toBe(false)
    expect(permissionDecision(actor('viewer', null), 'emergency')).toMatchObject({
      allow: false,
      error: { code: 'LOA_FORBIDDEN', statusCode: 403, message: 'permission "emergency" required' },
    })
    expect(permissionDecision(actor('commune-operator', 'commune-a'), 'emergency')).toEqual({
      allow: true,
      unitId: null,
    })
  })

  it('a scope is its subtree; the root of the only tree is no restriction', async () => {
    expect(await scopeUnitIds(deps, actor('province-operator', 'province'))).toBeNull()
    expect(await scopeUnitIds(deps, actor('province-operator', null))).toBeNull()
    const district = await scopeUnitIds(deps, actor('commune-operator', 'district'))
    expect([...(district ?? [])].sort()).toEqual(['commune-a', 'commune-b', 'district'])
  })

  it('a unit outside the scope is 404 to read and 403 to act on; inside, the unit is noted', async () => {
    const a = actor('commune-operator', 'commune-a')
    expect(await unitAccess(deps, a, 'commune-a')).toEqual({ allow: true, unitId: 'commune-a' })
    expect(deniedWith(await unitAccess(deps, a, 'commune-b', 'read'))).toEqual({
      code: 'LOA_NOT_FOUND',
      status: 404,
    })
    expect(deniedWith(await unitAccess(deps, a, 'commune-b', 'act'))).toEqual({
      code: 'LOA_FORBIDDEN',
      status: 403,
    })
  })

  it('a cluster is judged by its unit; an unknown one is 404 even to act on', async () => {
    const a = actor('commune-operator', 'commune-a')
    expect(await clusterAccess(deps, a, 'ca')).toEqual({ allow: true, unitId: 'commune-a' })
    expect(deniedWith(await clusterAccess(deps, a, 'cb', 'act'))?.status).toBe(403)
    expect(deniedWith(await clusterAccess(deps, a, 'cb', 'read'))?.status).toBe(404)
    expect(deniedWith(await clusterAccess(deps, a, 'nope', 'act'))?.status).toBe(404)
  })

  it('scoped actors target only their units and clusters, never tags or areas', async () => {
    const a = actor('commune-operator', 'commune-a')
    expect(await targetsAccess(deps, a, { clusters: ['ca'] })).toEqual({ allow: true, unitId: 'commune-a' })
    const outside = await targetsAccess(deps, a, { units: ['commune-a', 'commune-b'] })
    expect(outside.allow ? null : outside.error.message).toBe(
      'targets.units[1]: unit "commune-b" is outside your scope',
    )
    expect(deniedWith(await targetsAccess(deps, a, { tags: ['river'] }))?.status).toBe(403)
    expect(deniedWith(await targetsAccess(deps, a, { area: { type: 'circle' } }))?.status).toBe(403)
    // Unrestricted: anything goes, the first unit is noted.
    const p = actor('province-operator', null)
    expect(await targetsAccess(deps, p, { tags: ['river'], units: ['district'] })).toEqual({
      allow: true,
      unitId: 'district',
    })
  })

  it('province-wide targets are visible below; whole-tree operations are for unrestricted actors', async () => {
    const a = actor('commune-operator', 'commune-a')
    expect(await targetsVisible(deps, a, { units: ['province'] })).toBe(true)
    expect(await targetsVisible(deps, a, { units: ['commune-b'] })).toBe(false)
    expect(await targetsVisible(deps, a, { tags: ['river'] })).toBe(true)
    expect(await targetsVisible(deps, a, { tags: ['river'] }, ['cb'])).toBe(false)
    expect(deniedWith(await wholeTreeAccess(deps, a))?.status).toBe(403)
    expect((await wholeTreeAccess(deps, actor('province-admin', 'province'))).allow).toBe(true)
  })
})
