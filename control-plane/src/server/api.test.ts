import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedTree, startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

let t: TestPlane
beforeAll(async () => {
  t = await startTestPlane()
  await seedTree(t)
})
afterAll(async () => {
  await t?.close()
})

describe('units and clusters', () => {
  it('stores a unit tree of any depth and answers subtree queries', async () => {
    expect(
      (await t.api('POST', '/api/units', { id: 'xom-a1x', name: 'Xóm', kind: 'hamlet', parentId: 'thon-a1' }))
        .status,
    ).toBe(201)
    expect(
      (await t.api('POST', '/api/clusters', { id: 'c-deep', name: 'Sâu', unitId: 'xom-a1x' })).status,
    ).toBe(201)
    const units = await t.api<{ units: { id: string }[] }>('GET', '/api/units')
    expect(units.body.units.map((u) => u.id)).toEqual(
      expect.arrayContaining(['prov', 'xa-a', 'thon-a1', 'xom-a1x']),
    )
    const subA = await t.api<{ clusters: { id: string }[] }>('GET', '/api/clusters?unitId=xa-a')
    expect(subA.body.clusters.map((c) => c.id).sort()).toEqual(['c-a', 'c-a1', 'c-deep'])
    const subB = await t.api<{ clusters: { id: string }[] }>('GET', '/api/clusters?unitId=xa-b')
    expect(subB.body.clusters.map((c) => c.id)).toEqual(['c-b'])
    const all = await t.api<{ clusters: { id: string }[] }>('GET', '/api/clusters?unitId=prov')
    expect(all.body.clusters).toHaveLength(4)
  })

  it('filters clusters by tag and returns the status fields', async () => {
    const r = await t.api<{ clusters: Record<string, unknown>[] }>('GET', '/api/clusters?tag=market')
    expect(r.body.clusters.map((c) => c.id).sort()).toEqual(['c-a', 'c-b'])
    const c = r.body.clusters[0] as Record<string, unknown>
    for (const k of [
      'online',
      'lastSeenAt',
      'desiredVersion',
      'appliedVersion',
      'receivedVersion',
      'nowPlaying',
      'agentVersion',
    ]) {
      expect(c).toHaveProperty(k)
    }
    expect(c.online).toBe(false)
  })

  it('refuses bad units and clusters with a message naming the field', async () => {
    const noParent = await t.api<{ code: string; message: string }>('POST', '/api/units', {
      id: 'x1',
      name: 'x',
      kind: 'commune',
      parentId: 'nope',
    })
    expect(noParent.status).toBe(400)
    expect(noParent.body.message).toMatch(/parentId/)
    const dup = await t.api<{ code: string }>('POST', '/api/units', {
      id: 'prov',
      name: 'x',
      kind: 'province',
    })
    expect(dup.status).toBe(409)
    expect(dup.body.code).toBe('LOA_CONFLICT')
    const badId = await t.api<{ message: string }>('POST', '/api/clusters', {
      id: 'a/b',
      name: 'x',
      unitId: 'prov',
    })
    expect(badId.status).toBe(400)
    expect(badId.body.message).toMatch(/id/)
    const badVol = await t.api<{ message: string; code: string; statusCode: number; error: string }>(
      'POST',
      '/api/clusters',
      { id: 'c-x', name: 'x', unitId: 'prov', volume: 101 },
    )
    expect(badVol.status).toBe(400)
    expect(badVol.body).toMatchObject({ statusCode: 400, code: 'LOA_VALIDATION', error: 'Bad Request' })
    expect(badVol.body.message).toMatch(/volume/)
    const extra = await t.api<{ message: string }>('POST', '/api/clusters', {
      id: 'c-y',
      name: 'y',
      unitId: 'prov',
      colour: 1,
    })
    expect(extra.status).toBe(400)
    expect(extra.body.message).toMatch(/colour/)
    const noName = await t.api<{ message: string }>('POST', '/api/clusters', { id: 'c-y', unitId: 'prov' })
    expect(noName.body.message).toMatch(/^name:/)
    const missing = await t.api<{ code: string }>('GET', '/api/clusters/nope')
    expect(missing.status).toBe(404)
    expect(missing.body.code).toBe('LOA_NOT_FOUND')
  })

  it('patches a cluster', async () => {
    const r = await t.api<{ volume: number; tags: string[] }>('PATCH', '/api/clusters/c-a1', {
      volume: 55,
      tags: ['school'],
    })
    expect(r.status).toBe(200)
    expect(r.body.volume).toBe(55)
    expect(r.body.tags).toEqual(['school'])
    expect((await t.api('PATCH', '/api/clusters/c-a1', { unitId: 'ghost' })).status).toBe(400)
  })

  it('creates stations', async () => {
    const r = await t.api<{ id: string }>('POST', '/api/stations', { name: 'Đài xã A', unitId: 'xa-a' })
    expect(r.status).toBe(201)
    expect(r.body.id).toBeTruthy()
    const list = await t.api<{ stations: { id: string }[] }>('GET', '/api/stations')
    expect(list.body.stations.map((s) => s.id)).toContain(r.body.id)
  })
})

describe('system routes', () => {
  it('reports health with db and broker state', async () => {
    const r = await t.api('GET', '/healthz')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ status: 'ok', db: 'ok', broker: 'connected' })
  })

  it('exposes Prometheus metrics read from the database', async () => {
    const r = await t.api<string>('GET', '/metrics')
    expect(r.status).toBe(200)
    const total = Number(/^loa_devices_total (\d+)$/m.exec(r.body)?.[1])
    const listed = await t.api<{ clusters: unknown[] }>('GET', '/api/clusters')
    expect(total).toBe(listed.body.clusters.length)
    expect(r.body).toMatch(/^loa_devices_online 0$/m)
    expect(r.body).toMatch(/^loa_plays_total 0$/m)
    expect(r.body).toMatch(/loa_messages_rejected_total/)
  })

  it('serves an OpenAPI document with every route and its schema', async () => {
    const r = await t.api<{
      openapi: string
      paths: Record<string, Record<string, { requestBody?: unknown }>>
    }>('GET', '/openapi.json')
    expect(r.status).toBe(200)
    expect(r.body.openapi).toMatch(/^3\./)
    for (const p of [
      '/api/units',
      '/api/clusters',
      '/api/schedules',
      '/api/media',
      '/media/{sha256}',
      '/api/plays',
      '/healthz',
    ]) {
      expect(r.body.paths).toHaveProperty(p)
    }
    expect(r.body.paths['/api/schedules']?.post?.requestBody).toBeDefined()
  })

  it('limits JSON body size', async () => {
    const r = await t.api<{ statusCode: number }>('POST', '/api/units', {
      id: 'big',
      name: 'x'.repeat(300_000),
      kind: 'x',
    })
    expect(r.status).toBe(413)
  })
})
