import { hashPassword } from '@loa/shared/password-hash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPage } from '../../test-kit/test-helpers.js'
import { TechnicianAuth } from './auth.js'

const PASSWORD = 'kỹ-thuật-viên 2026'

/**
 * Parallel guesses on the technician page (docs/technician-page.md): each attempt is counted before its scrypt
 * hash runs, so nine wrong passwords sent at once lock the address, and the right one sent just after is refused.
 */
describe('technician login under concurrency, over real HTTP', () => {
  let page: Awaited<ReturnType<typeof startLocalPage>>

  const login = (password: string) =>
    fetch(`${page.base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password }),
    })

  beforeAll(async () => {
    // The real scrypt cost: the hashes of parallel attempts overlap, as on a box.
    const passwordHash = await hashPassword(PASSWORD)
    page = await startLocalPage('pi-race', passwordHash, { auth: new TechnicianAuth(() => passwordHash) })
  })
  afterAll(async () => {
    await page?.close()
  })

  it('locks the address after nine parallel wrong passwords and refuses the right one sent just after', async () => {
    const wrong = Array.from({ length: 9 }, (_, i) => login(`sai ${i}`))
    // The right password goes out while the wrong ones are still being hashed.
    await new Promise((r) => setTimeout(r, 30))
    const right = await login(PASSWORD)
    const answers = await Promise.all(wrong)
    const bodies = await Promise.all(
      answers.map(async (r) => (await r.json()) as { code: string; retryAfterS?: number }),
    )
    const codes = bodies.map((b) => b.code)
    // At most five were let through to the hash (the per-address limit); the others were refused unhashed.
    expect(codes.filter((c) => c === 'LOA_LOCAL_WRONG_PASSWORD').length).toBeLessThanOrEqual(4)
    expect(codes.filter((c) => c === 'LOA_LOCAL_LOCKED').length).toBeGreaterThanOrEqual(5)
    // The fifth failure locked the address for minutes (the page allows 10 logins a minute: no more tries here).
    expect(Math.max(...bodies.map((b) => b.retryAfterS ?? 0))).toBeGreaterThan(200)
    expect(right.status).toBe(429)
    expect(((await right.json()) as { code: string }).code).toBe('LOA_LOCAL_LOCKED')
    expect(right.headers.get('set-cookie')).toBeNull()
  })
})
