import path from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'
import { parseApiToken } from '../access/api-tokens.js'
import type { AuditEntry } from '../access/model.js'
import { initDataDir } from '../bootstrap.js'
import { csvCell } from '../reports/csv-cell.js'

/** The audit log, users admin, first administrator and device actors (docs/users-and-roles.md). */

let t: TestPlane
const PASSWORD = 'mật-khẩu-đủ-dài-9'
type Entries = { entries: AuditEntry[]; total: number }

beforeAll(async () => {
  t = await startTestPlane()
  for (const u of [
    { id: 'prov', name: 'Tỉnh', kind: 'province', parentId: null },
    { id: 'xa-a', name: 'Xã A', kind: 'commune', parentId: 'prov' },
    { id: 'xa-b', name: 'Xã B', kind: 'commune', parentId: 'prov' },
  ]) {
    expect((await t.api('POST', '/api/units', u)).status).toBe(201)
  }
  for (const [id, unitId] of [
    ['c-a', 'xa-a'],
    ['c-b', 'xa-b'],
  ]) {
    expect((await t.api('POST', '/api/clusters', { id, name: id, unitId })).status).toBe(201)
  }
})
afterAll(async () => {
  await t?.close()
})

describe('audit log', () => {
  it('records successful and refused actions with actor, target, unit and outcome', async () => {
    const opA = t.apiAs({ role: 'commune-operator', scopeUnitId: 'xa-a' })
    expect((await opA('PATCH', '/api/clusters/c-a', { name: 'x' })).status).toBe(403)
    expect((await opA('POST', '/api/clusters/c-a/commands', { kind: 'ping' })).status).toBe(202)
    expect((await t.apiWith({})('POST', '/api/units', { id: 'z', name: 'z', kind: 'x' })).status).toBe(401)
    const all = await t.api<Entries>('GET', '/api/audit?limit=1000')
    const byAction = (a: string) => all.body.entries.filter((e) => e.action === a)
    expect(byAction('unit.create').map((e) => e.targetId)).toEqual(
      expect.arrayContaining(['prov', 'xa-a', 'xa-b']),
    )
    expect(byAction('cluster.create')[0]).toMatchObject({
      actorKind: 'token',
      actorId: 'testadmin',
      targetType: 'cluster',
      unitId: expect.stringMatching(/^xa-/),
      outcome: 201,
      ip: '127.0.0.1',
    })
    expect(byAction('cluster.update')[0]).toMatchObject({
      targetId: 'c-a',
      outcome: 403,
      actorName: 'test commune-operator',
    })
    expect(byAction('command.send')[0]).toMatchObject({ targetType: 'command', unitId: 'xa-a', outcome: 202 })
    expect(
      byAction('POST /api/units').length + byAction('unit.create').filter((e) => e.outcome === 401).length,
    ).toBe(1)
    const anon = all.body.entries.find((e) => e.outcome === 401)
    expect(anon).toMatchObject({ actorKind: 'anonymous' })
  })

  it('filters by action, actor, unit and time, and paginates', async () => {
    const q = (s: string) => t.api<Entries>('GET', `/api/audit?${s}`)
    const creates = await q('action=cluster.create')
    expect(creates.body.total).toBe(2)
    expect((await q('action=cluster.create&limit=1')).body.entries).toHaveLength(1)
    const second = (await q('action=cluster.create&limit=1&offset=1')).body.entries[0]
    expect(second?.id).not.toBe((await q('action=cluster.create&limit=1')).body.entries[0]?.id)
    expect((await q('unit=xa-b&action=cluster.create')).body.entries.map((e) => e.targetId)).toEqual(['c-b'])
    expect((await q('actor=testadmin')).body.total).toBeGreaterThan(3)
    expect((await q(`from=${new Date(Date.now() + 60_000).toISOString()}`)).body.total).toBe(0)
    expect((await q(`to=${new Date(Date.now() - 3_600_000).toISOString()}`)).body.total).toBe(0)
  })

  it('shows a commune operator only its subtree and its own actions; viewers none', async () => {
    const opB = t.apiAs({ role: 'commune-operator', scopeUnitId: 'xa-b' })
    expect((await opB('POST', '/api/clusters/c-b/commands', { kind: 'ping' })).status).toBe(202)
    const seen = (await opB<Entries>('GET', '/api/audit?limit=1000')).body.entries
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((e) => e.unitId === 'xa-b' || e.actorName === 'test commune-operator')).toBe(true)
    expect(seen.some((e) => e.unitId === 'xa-a')).toBe(false)
    expect((await opB<Entries>('GET', '/api/audit?unit=xa-a')).body.entries).toEqual([])
    const viewer = t.apiAs({ role: 'viewer', scopeUnitId: null })
    expect((await viewer('GET', '/api/audit')).status).toBe(403)
    expect((await viewer('GET', '/api/audit.csv')).status).toBe(403)
  })

  it('exports CSV with the same rows, defusing spreadsheet formulas', async () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`)
    expect(csvCell('-1+2')).toBe("'-1+2")
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"')
    expect(csvCell(null)).toBe('')
    const res = await t.cp.app.inject({
      method: 'GET',
      url: '/api/audit.csv?action=cluster.create',
      headers: t.adminHeaders,
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    const rows = parse(res.body, { columns: true }) as Record<string, string>[]
    expect(rows.map((r) => r.targetId).sort()).toEqual(['c-a', 'c-b'])
    expect(rows[0]).toMatchObject({ action: 'cluster.create', actorId: 'testadmin', outcome: '201' })
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'id',
      'at',
      'actorKind',
      'actorId',
      'actorName',
      'action',
      'targetType',
      'targetId',
      'unitId',
      'outcome',
      'ip',
      'details',
    ])
    const exports = await t.api<Entries>('GET', '/api/audit?action=audit.export')
    expect(exports.body.entries.map((e) => e.outcome).sort()).toEqual([200, 403])
  })

  it('keeps secrets out of the details', async () => {
    const r = await t.api<{ id: string }>('POST', '/api/users', {
      username: 'lan',
      displayName: 'Lan',
      role: 'viewer',
      scopeUnitId: 'xa-a',
      password: PASSWORD,
    })
    expect(r.status).toBe(201)
    await t.api('PATCH', `/api/users/${r.body.id}`, { password: `${PASSWORD}-mới` })
    const tok = await t.api<{ secret: string }>('POST', '/api/tokens', { name: 'feed', role: 'viewer' })
    const res = await t.cp.app.inject({ method: 'GET', url: '/api/audit.csv', headers: t.adminHeaders })
    expect(res.body).toContain('user.create')
    expect(res.body).toContain('resetLogin')
    expect(res.body).not.toContain(PASSWORD)
    expect(res.body).not.toContain(parseApiToken(tok.body.secret)?.secret as string)
  })
})

describe('users admin', () => {
  it('creates, lists in scope, disables, and keeps the last province administrator', async () => {
    const admin = await t.api<{ id: string }>('POST', '/api/users', {
      username: 'Quan-Tri',
      displayName: 'Quản trị',
      role: 'province-admin',
      scopeUnitId: 'prov',
      password: PASSWORD,
    })
    expect(admin.status).toBe(201)
    expect(
      (
        await t.api('POST', '/api/users', {
          username: 'quan-tri',
          displayName: 'x',
          role: 'viewer',
          scopeUnitId: 'prov',
          password: PASSWORD,
        })
      ).status,
    ).toBe(409)
    expect(
      (
        await t.api('POST', '/api/users', {
          username: 'ngan',
          displayName: 'x',
          role: 'viewer',
          scopeUnitId: 'prov',
          password: 'short',
        })
      ).status,
    ).toBe(400)
    const last = await t.api<{ code: string }>('PATCH', `/api/users/${admin.body.id}`, { role: 'viewer' })
    expect(last.status).toBe(409)
    expect(last.body.code).toBe('LOA_LAST_ADMIN')
    expect((await t.api('PATCH', `/api/users/${admin.body.id}`, { disabled: true })).status).toBe(409)
    const communeAdmin = t.apiAs({ role: 'province-admin', scopeUnitId: 'xa-b' })
    const listed = await communeAdmin<{ users: { username: string }[] }>('GET', '/api/users')
    expect(listed.body.users.map((u) => u.username)).toEqual([])
    expect((await communeAdmin('GET', `/api/users/${admin.body.id}`)).status).toBe(404)
    expect((await communeAdmin('PATCH', `/api/users/${admin.body.id}`, { displayName: 'x' })).status).toBe(
      404,
    )
    expect(
      (
        await communeAdmin('POST', '/api/users', {
          username: 'an-b',
          displayName: 'x',
          role: 'commune-operator',
          scopeUnitId: 'xa-a',
          password: PASSWORD,
        })
      ).status,
    ).toBe(403)
  })
})

describe('first administrator', () => {
  it('initDataDir creates the province and its admin once, with a working token', async () => {
    const dir = path.join(t.dir, 'fresh')
    const first = await initDataDir(dir, {
      province: { id: 'qt', name: 'Quảng Trị', code: '45' },
      username: 'admin',
      password: PASSWORD,
      tokenName: 'loa init',
    })
    expect(first).toMatchObject({ unitCreated: true, user: { role: 'province-admin', scopeUnitId: 'qt' } })
    expect(first.token).toMatch(/^loa_/)
    await expect(
      initDataDir(dir, { province: { id: 'qt', name: 'x' }, username: 'admin2', password: PASSWORD }),
    ).rejects.toThrow(/already exists/)
    const plane = await startTestPlane({ dataDir: dir })
    try {
      const me = await plane.apiWith({ authorization: `Bearer ${first.token}` })<{ permissions: string[] }>(
        'GET',
        '/api/auth/me',
      )
      expect(me.status).toBe(200)
      expect(me.body.permissions).toContain('admin-users')
      const login = await plane.cp.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'ADMIN', password: PASSWORD },
      })
      expect(login.statusCode).toBe(200)
    } finally {
      await plane.cp.close()
    }
  })
})

describe('device actors', () => {
  it('download media with their own credentials and nothing else; wrong, rotated and revoked ones are refused', async () => {
    const plane = await startTestPlane()
    try {
      await plane.api('POST', '/api/units', { id: 'p', name: 'P', kind: 'province' })
      for (const id of ['c-1', 'c-2']) await plane.api('POST', '/api/clusters', { id, name: id, unitId: 'p' })
      const issue = async (id: string) =>
        (await plane.api<{ password: string }>('POST', `/api/clusters/${id}/credentials`)).body.password
      const basic = (id: string, secret: string) =>
        plane.apiWith({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` })
      const media = `/media/${'0'.repeat(64)}`
      const first = await issue('c-1')
      const device = basic('c-1', first)
      expect((await device('GET', media)).status).toBe(404)
      expect((await device('GET', '/api/clusters')).status).toBe(403)
      expect((await device('POST', '/api/units', { id: 'q', name: 'q', kind: 'x' })).status).toBe(403)
      expect((await basic('c-1', 'wrong')('GET', media)).status).toBe(401)
      // One device's secret is not another's, and an unknown or never-provisioned id has none.
      expect((await basic('c-2', first)('GET', media)).status).toBe(401)
      expect((await basic('c-unknown', first)('GET', media)).status).toBe(401)
      // A rotation ends the old secret at once; a revocation ends the new one.
      const second = await issue('c-1')
      expect((await basic('c-1', first)('GET', media)).status).toBe(401)
      expect((await basic('c-1', second)('GET', media)).status).toBe(404)
      expect((await plane.api('POST', '/api/clusters/c-1/revoke')).status).toBe(200)
      expect((await basic('c-1', second)('GET', media)).status).toBe(401)
    } finally {
      await plane.close()
    }
  })
})
