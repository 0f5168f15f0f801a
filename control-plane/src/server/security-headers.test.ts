import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'
import { tileSource } from './security-headers.js'

/** The console's security headers on every kind of response (docs/security.md, "Browser pages"). */

let t: TestPlane
beforeAll(async () => {
  t = await startTestPlane({ mapTileUrl: 'https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png' })
})
afterAll(async () => {
  await t?.close()
})

const get = (url: string, headers: Record<string, string> = {}) =>
  t.cp.app.inject({ method: 'GET', url, headers })

describe('security headers', () => {
  it('sends a strict CSP and the usual headers on the page, the API, errors and refusals', async () => {
    for (const [url, headers] of [
      ['/', {}],
      ['/dashboard', {}],
      ['/console-config.json', {}],
      ['/api/units', t.adminHeaders],
      ['/api/units', {}],
      ['/api/no-such-route', t.adminHeaders],
      ['/healthz', {}],
    ] as const) {
      const r = await get(url, headers)
      const csp = String(r.headers['content-security-policy'])
      const directives = new Map(
        csp.split(';').map((d) => {
          const [name, ...sources] = d.trim().split(/\s+/)
          return [name, sources.join(' ')] as const
        }),
      )
      expect(directives.get('default-src'), url).toBe("'self'")
      expect(directives.get('script-src'), url).toBe("'self'")
      expect(directives.get('style-src'), url).toBe("'self'")
      expect(directives.get('object-src'), url).toBe("'none'")
      expect(directives.get('base-uri'), url).toBe("'none'")
      expect(directives.get('frame-ancestors'), url).toBe("'none'")
      expect(directives.get('connect-src'), url).toBe("'self'")
      // The map's tiles, and nothing else from outside.
      expect(directives.get('img-src'), url).toBe("'self' data: https://*.tile.openstreetmap.org")
      expect(csp, url).not.toContain('unsafe')
      expect(r.headers['x-content-type-options'], url).toBe('nosniff')
      expect(r.headers['x-frame-options'], url).toBe('DENY')
      // OpenStreetMap asks for a Referer: the origin only, never the page's path.
      expect(r.headers['referrer-policy'], url).toBe('strict-origin-when-cross-origin')
      expect(r.headers['permissions-policy'], url).toContain('microphone=(self)')
      expect(r.headers['permissions-policy'], url).toContain('camera=()')
      // Plain HTTP here: no HSTS (it is sent over HTTPS only).
      expect(r.headers['strict-transport-security'], url).toBeUndefined()
    }
  })

  it('marks API answers no-store (they carry personal data), but not the hashed assets', async () => {
    for (const url of ['/api/units', '/api/auth/me', '/api/no-such-route']) {
      expect((await get(url, t.adminHeaders)).headers['cache-control'], url).toBe('no-store')
    }
    expect((await get('/api/units')).headers['cache-control']).toBe('no-store')
    expect((await get('/console-config.json')).headers['cache-control']).toBe('no-cache')
  })

  it('derives the CSP source of a tile template', () => {
    expect(tileSource('https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png')).toBe(
      'https://*.tile.openstreetmap.org',
    )
    expect(tileSource('https://tiles.example.vn/{z}/{x}/{y}.png')).toBe('https://tiles.example.vn')
    expect(tileSource('http://tile-{s}.example.vn:8080/{z}/{x}/{y}.png')).toBe('http://*.example.vn:8080')
    expect(tileSource('/tiles/{z}/{x}/{y}.png')).toBeNull()
    expect(tileSource(null)).toBeNull()
  })
})
