import { hashPassword } from '@loa/shared/password-hash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPage } from '../../test-kit/test-helpers.js'

/** The technician page's security headers (docs/technician-page.md), on the page, the API and refusals. */
describe('technician page security headers, over real HTTP', () => {
  let page: Awaited<ReturnType<typeof startLocalPage>>

  beforeAll(async () => {
    page = await startLocalPage('pi-headers', await hashPassword('mật khẩu kỹ thuật', { N: 1024 }))
  })
  afterAll(async () => {
    await page?.close()
  })

  it('sends a strict CSP, no framing, nosniff, no referrer, the microphone for itself only, no-store on the API', async () => {
    for (const path of ['/', '/api/auth', '/api/status', '/api/nothing-here']) {
      const res = await fetch(`${page.base}${path}`)
      const csp = res.headers.get('content-security-policy') ?? ''
      for (const d of [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ]) {
        expect(csp, `${path}: ${d}`).toContain(d)
      }
      expect(csp, path).not.toContain('unsafe')
      expect(res.headers.get('x-frame-options'), path).toBe('DENY')
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer')
      expect(res.headers.get('permissions-policy'), path).toContain('microphone=(self)')
      expect(res.headers.get('permissions-policy'), path).toContain('camera=()')
      if (path.startsWith('/api/')) expect(res.headers.get('cache-control'), path).toBe('no-store')
    }
  })
})
