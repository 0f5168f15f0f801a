import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPolicyPlane } from '../../test-kit/policy-seed.js'
import type { ApiCall, TestPlane } from '../../test-kit/test-helpers.js'
import type { App, Services } from '../context.js'
import { registerAuth } from './auth-plugin.js'

/**
 * Authentication and role boundaries, enforced by the API: each role gets exactly its permissions
 * (docs/users-and-roles.md). The scope boundaries between communes are in policy-scope.test.ts.
 */

let t: TestPlane
let ab: ApiCall
let viewer: ApiCall
let provOp: ApiCall
let anon: ApiCall
let sha: string

beforeAll(async () => {
  ;({ t, ab, viewer, provOp, anon, sha } = await startPolicyPlane())
}, 60_000)
afterAll(async () => {
  await t?.close()
})

describe('unauthenticated', () => {
  it('refuses every API route listed in the OpenAPI document, except health and login', async () => {
    const doc = await t.api<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json')
    expect(doc.status).toBe(200)
    const paths = Object.entries(doc.body.paths)
    expect(paths.length).toBeGreaterThan(30)
    let checked = 0
    for (const [p, methods] of paths) {
      for (const method of Object.keys(methods)) {
        if (method === 'head') continue
        const url = p.replace(/\{[^}]+\}/g, 'x')
        const r = await anon(
          method.toUpperCase(),
          url,
          method === 'get' || method === 'delete' ? undefined : {},
        )
        if (url === '/healthz' || url === '/api/auth/login') {
          expect(r.status, `${method} ${url}`).not.toBe(401)
          continue
        }
        expect(r.status, `${method} ${url}`).toBe(401)
        expect((r.body as { code: string }).code).toBe('LOA_UNAUTHENTICATED')
        checked++
      }
    }
    expect(checked).toBeGreaterThan(40)
    for (const url of ['/openapi.json', '/metrics', `/media/${sha}`, '/api/no-such-route']) {
      expect((await anon('GET', url)).status, url).toBe(401)
    }
  })

  it('refuses a bad bearer token, a revoked one, and unknown schemes', async () => {
    const bad = await t.apiWith({
      authorization: 'Bearer loa_testadmin_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    })('GET', '/api/units')
    expect(bad.status).toBe(401)
    expect((await t.apiWith({ authorization: 'Digest x' })('GET', '/api/units')).status).toBe(401)
    expect((await t.apiWith({ authorization: 'Basic Yzp4' })('GET', `/media/${sha}`)).status).toBe(401)
  })
})

describe('role permissions', () => {
  it('viewer reads but changes nothing', async () => {
    expect((await viewer('GET', '/api/schedules')).status).toBe(200)
    expect((await viewer('GET', '/api/media')).status).toBe(200)
    expect((await viewer('GET', '/metrics')).status).toBe(200)
    const weekly = { kind: 'weekly', daysOfWeek: [2], times: ['07:00'], startDate: '2026-01-01' }
    for (const [method, url, body] of [
      [
        'POST',
        '/api/schedules',
        { bulletinId: 'b1', recurrence: weekly, targets: { units: ['xa-an-binh'] } },
      ],
      ['POST', '/api/bulletins', { title: 'x', level: 'normal', mediaSha256: sha }],
      ['POST', '/api/alerts', { title: 'x', mediaSha256s: [sha], targets: { units: ['xa-an-binh'] } }],
      ['POST', '/api/clusters/c-ab/commands', { kind: 'ping' }],
      ['GET', '/api/audit', undefined],
      ['GET', '/api/users', undefined],
    ] as const) {
      const r = await viewer(method, url, body)
      expect(r.status, `${method} ${url}`).toBe(403)
      expect((r.body as { code: string }).code).toBe('LOA_FORBIDDEN')
    }
  })

  it('operators run broadcasts but administer neither devices nor users', async () => {
    for (const op of [ab, provOp]) {
      expect(
        (await op('POST', '/api/units', { id: 'x1', name: 'x', kind: 'village', parentId: 'xa-an-binh' }))
          .status,
      ).toBe(403)
      expect((await op('PATCH', '/api/clusters/c-ab', { name: 'renamed' })).status).toBe(403)
      expect((await op('GET', '/api/users')).status).toBe(403)
      expect((await op('POST', '/api/tokens', { name: 'x', role: 'viewer' })).status).toBe(403)
      expect((await op('GET', '/api/audit')).status).toBe(200)
    }
    const a = await provOp<{ id: string }>('POST', '/api/alerts', {
      title: 'Bão',
      mediaSha256s: [sha],
      targets: { units: ['xa-hoa-phu'], tags: ['market'] },
    })
    expect(a.status).toBe(201)
    expect((await provOp('POST', `/api/alerts/${a.body.id}/cancel`)).status).toBe(200)
  })

  it('a device credential only downloads media', async () => {
    expect((await t.apiWith({ authorization: 'Basic Yy1hYjpzZWNyZXQ=' })('GET', '/api/units')).status).toBe(
      401,
    )
  })
})

describe('route declarations', () => {
  it('refuses a protected route that declares no permission, so none can be left open by mistake', async () => {
    const app = Fastify()
    // The hooks only read services when a request arrives.
    await registerAuth(app as unknown as App, {} as Services)
    app.get('/console/page', async () => 'a public page')
    app.get('/api/declared', { config: { permission: 'read' } }, async () => 'ok')
    expect(() => app.get('/api/forgotten', async () => 'open?')).toThrow(
      /GET \/api\/forgotten: config.permission missing/,
    )
    expect(() => app.post('/media/upload', async () => 'open?')).toThrow(/config.permission missing/)
    await app.ready()
    expect((await app.inject({ url: '/console/page' })).statusCode).toBe(200)
    await app.close()
  })
})
