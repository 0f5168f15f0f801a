import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

/**
 * The account lockout under parallel guesses (docs/users-and-roles.md, "Brute force"): every attempt is counted
 * before its scrypt hash runs, in one SQL statement, so fifteen wrong passwords sent at once lock the account and
 * the right password sent just after is refused.
 */

let t: TestPlane
const PASSWORD = 'mật-khẩu-rất-dài-1'

const login = (username: string, password: string) =>
  fetch(`${t.cp.httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
const codeOf = async (r: Response) => ((await r.json()) as { code: string }).code

beforeAll(async () => {
  t = await startTestPlane({ auth: { loginRateMax: 1000, lockoutThreshold: 5, lockoutMs: 60_000 } })
  expect((await t.api('POST', '/api/units', { id: 'prov', name: 'Tỉnh', kind: 'province' })).status).toBe(201)
  for (const username of ['lan', 'minh', 'hung']) {
    const r = await t.api('POST', '/api/users', {
      username,
      displayName: username,
      role: 'province-operator',
      scopeUnitId: 'prov',
      password: PASSWORD,
    })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
  }
})
afterAll(async () => {
  await t?.close()
})

describe('console login lockout under concurrency, over real HTTP', () => {
  it('locks the account after fifteen parallel wrong passwords and refuses the right one sent just after', async () => {
    const wrong = Array.from({ length: 15 }, (_, i) => login('lan', `sai-mật-khẩu-${i}`))
    // The right password goes out while the wrong ones are still being hashed.
    await new Promise((r) => setTimeout(r, 30))
    const right = await login('lan', PASSWORD)
    const codes = await Promise.all((await Promise.all(wrong)).map(codeOf))
    // Only as many attempts as the threshold reached the hash; the rest were refused before it.
    expect(codes.filter((c) => c === 'LOA_LOGIN_FAILED').length).toBeLessThanOrEqual(5)
    expect(codes.filter((c) => c === 'LOA_ACCOUNT_LOCKED').length).toBeGreaterThanOrEqual(10)
    expect(right.status).toBe(423)
    expect(await codeOf(right)).toBe('LOA_ACCOUNT_LOCKED')
    expect(right.headers.get('set-cookie')).toBeNull()
    // Locked for real once every hash is done, and audited once.
    const after = await login('lan', PASSWORD)
    expect(after.status).toBe(423)
    const audit = await t.api<{ entries: { action: string }[] }>('GET', '/api/audit?action=auth.lockout')
    expect(audit.body.entries).toHaveLength(1)
  })

  it('still lets the right password in among a few parallel wrong ones below the threshold', async () => {
    const attempts = [
      login('minh', 'sai-một-lần-nữa-1'),
      login('minh', PASSWORD),
      login('minh', 'sai-một-lần-nữa-2'),
    ]
    const statuses = (await Promise.all(attempts)).map((r) => r.status)
    expect(statuses[1]).toBe(200)
    expect(statuses.filter((s) => s === 401)).toHaveLength(2)
  })

  it('counts wrong current passwords given to a password change like failed logins', async () => {
    const ok = await login('hung', PASSWORD)
    expect(ok.status).toBe(200)
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] as string
    const change = (currentPassword: string) =>
      fetch(`${t.cp.httpUrl}/api/auth/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ currentPassword, newPassword: 'một-mật-khẩu-mới-dài' }),
      })
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => change(`đoán-${i}`)))
    expect(answers.filter((r) => r.status === 423).length).toBeGreaterThanOrEqual(3)
    expect((await login('hung', PASSWORD)).status).toBe(423)
  })
})
