import { Writable } from 'node:stream'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

/** Login, sessions, lockout, password change, API tokens, request limits and log redaction (docs/users-and-roles.md). */

let t: TestPlane
const PASSWORD = 'mật-khẩu-rất-dài-1'

interface Res {
  status: number
  body: Record<string, unknown>
  cookie: string | null
}

async function req(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Res> {
  const res = await t.cp.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
  })
  const set = res.cookies.find((c) => c.name === 'loa_session')
  return {
    status: res.statusCode,
    body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {},
    cookie: set ? `loa_session=${set.value}` : null,
  }
}
const login = (username: string, password = PASSWORD) =>
  req('POST', '/api/auth/login', { username, password })

async function createUser(username: string, role = 'commune-operator', scopeUnitId: string | null = 'xa-a') {
  const r = await t.api('POST', '/api/users', {
    username,
    displayName: username,
    role,
    scopeUnitId,
    password: PASSWORD,
  })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body as { id: string }
}

const logLines: string[] = []
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk))
      cb()
    },
  })
  t = await startTestPlane({
    logger: pino({ level: 'trace' }, sink),
    auth: { loginRateMax: 1000, lockoutThreshold: 5, lockoutMs: 60_000 },
  })
  for (const u of [
    { id: 'prov', name: 'Tỉnh', kind: 'province', parentId: null },
    { id: 'xa-a', name: 'Xã A', kind: 'commune', parentId: 'prov' },
  ]) {
    expect((await t.api('POST', '/api/units', u)).status).toBe(201)
  }
})
afterAll(async () => {
  await t?.close()
})

describe('login and sessions', () => {
  it('logs in with a case-insensitive username, sets a strict HttpOnly cookie, and answers /me', async () => {
    await createUser('An.Nguyen')
    const r = await req('POST', '/api/auth/login', { username: 'an.nguyen', password: PASSWORD })
    expect(r.status).toBe(200)
    expect(r.body.user).toMatchObject({
      username: 'An.Nguyen',
      role: 'commune-operator',
      scopeUnitName: 'Xã A',
    })
    const raw = (
      await t.cp.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'An.Nguyen', password: PASSWORD },
      })
    ).headers['set-cookie']
    expect(String(raw)).toMatch(/HttpOnly/)
    expect(String(raw)).toMatch(/SameSite=Strict/)
    const me = await req('GET', '/api/auth/me', undefined, { cookie: r.cookie as string })
    expect(me.status).toBe(200)
    expect(me.body.user).toMatchObject({ username: 'An.Nguyen', scopeUnitId: 'xa-a' })
    expect(me.body.permissions).toEqual(expect.arrayContaining(['read', 'content', 'emergency']))
    expect(me.body.permissions).not.toContain('admin-users')
    // The cookie works on the API, limited to the scope.
    expect(
      (await req('GET', '/api/units', undefined, { cookie: r.cookie as string })).body.units,
    ).toHaveLength(1)
  })

  it('gives the same answer for an unknown user, a wrong password and a disabled account', async () => {
    const u = await createUser('binh')
    const unknown = await login('nobody-here')
    const wrong = await login('binh', 'wrong password!')
    await t.api('PATCH', `/api/users/${u.id}`, { disabled: true })
    const disabled = await login('binh')
    for (const r of [unknown, wrong, disabled]) {
      expect(r.status).toBe(401)
      expect(r.body).toMatchObject({ code: 'LOA_LOGIN_FAILED', message: 'username or password is incorrect' })
      expect(r.cookie).toBeNull()
    }
  })

  it('logout ends the session', async () => {
    await createUser('chi')
    const { cookie } = await login('chi')
    expect((await req('POST', '/api/auth/logout', undefined, { cookie: cookie as string })).status).toBe(204)
    const after = await req('GET', '/api/auth/me', undefined, { cookie: cookie as string })
    expect(after.status).toBe(401)
    expect(after.body.code).toBe('LOA_UNAUTHENTICATED')
  })

  it('refuses cross-site unsafe requests made with the cookie', async () => {
    await createUser('dung')
    const { cookie } = await login('dung')
    const c = cookie as string
    const evil = await req('POST', '/api/auth/logout', undefined, {
      cookie: c,
      origin: 'http://evil.example',
    })
    expect(evil.status).toBe(403)
    expect(evil.body.code).toBe('LOA_CROSS_SITE')
    const site = await req('POST', '/api/auth/logout', undefined, {
      cookie: c,
      'sec-fetch-site': 'cross-site',
    })
    expect(site.status).toBe(403)
    expect((await req('GET', '/api/auth/me', undefined, { cookie: c })).status).toBe(200)
    const same = await req('POST', '/api/auth/logout', undefined, {
      cookie: c,
      origin: 'http://localhost:80',
      'sec-fetch-site': 'same-origin',
    })
    expect(same.status).toBe(204)
  })

  it('expires idle sessions and sessions past their absolute lifetime', async () => {
    const short = await startTestPlane({ auth: { sessionIdleMs: 400, sessionAbsoluteMs: 60_000 } })
    const long = await startTestPlane({ auth: { sessionIdleMs: 60_000, sessionAbsoluteMs: 400 } })
    try {
      for (const plane of [short, long]) {
        expect((await plane.api('POST', '/api/units', { id: 'p', name: 'P', kind: 'province' })).status).toBe(
          201,
        )
        const u = { username: 'em', displayName: 'Em', role: 'viewer', scopeUnitId: 'p', password: PASSWORD }
        expect((await plane.api('POST', '/api/users', u)).status).toBe(201)
        const res = await plane.cp.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'em', password: PASSWORD },
        })
        const cookie = `loa_session=${res.cookies.find((x) => x.name === 'loa_session')?.value}`
        const me = () => plane.cp.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })
        expect((await me()).statusCode).toBe(200)
        await new Promise((r) => setTimeout(r, 600))
        const expired = await me()
        expect(expired.statusCode).toBe(401)
        expect(JSON.parse(expired.body).message).toMatch(/expired/)
      }
    } finally {
      await short.close()
      await long.close()
    }
  })
})

describe('brute force', () => {
  it('locks an account for a while after 5 consecutive failures, and audits it', async () => {
    const u = await createUser('giang')
    for (let i = 0; i < 5; i++) expect((await login('giang', `wrong-${i}-password`)).status).toBe(401)
    const locked = await login('giang')
    expect(locked.status).toBe(423)
    expect(locked.body.code).toBe('LOA_ACCOUNT_LOCKED')
    const audit = await t.api<{ entries: { action: string; targetId: string; outcome: number }[] }>(
      'GET',
      '/api/audit?action=auth.lockout',
    )
    expect(audit.body.entries).toEqual([expect.objectContaining({ targetId: u.id, outcome: 423 })])
    const failures = await t.api<{ entries: { outcome: number }[] }>('GET', `/api/audit?action=auth.login`)
    expect(failures.body.entries.filter((e) => e.outcome === 401).length).toBeGreaterThanOrEqual(5)
    // An administrator unlocks it by resetting the password.
    expect((await t.api('PATCH', `/api/users/${u.id}`, { password: 'một-mật-khẩu-mới' })).status).toBe(200)
    expect((await login('giang', 'một-mật-khẩu-mới')).status).toBe(200)
  })

  it('rate-limits login attempts per client address', async () => {
    const limited = await startTestPlane({ auth: { loginRateMax: 3, loginRateWindowMs: 60_000 } })
    try {
      const attempt = () =>
        limited.cp.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'x', password: 'y' },
        })
      for (let i = 0; i < 3; i++) expect((await attempt()).statusCode).toBe(401)
      const r = await attempt()
      expect(r.statusCode).toBe(429)
      expect(JSON.parse(r.body).code).toBe('LOA_RATE_LIMITED')
    } finally {
      await limited.close()
    }
  })
})

describe('password change', () => {
  it('needs the current password, a long new one, and ends the other sessions', async () => {
    await createUser('hoa')
    const first = (await login('hoa')).cookie as string
    const second = (await login('hoa')).cookie as string
    const change = (body: unknown) => req('POST', '/api/auth/password', body, { cookie: first })
    expect((await change({ currentPassword: 'wrong', newPassword: 'đủ-dài-rồi-nhé' })).status).toBe(400)
    const short = await change({ currentPassword: PASSWORD, newPassword: 'short' })
    expect(short.status).toBe(400)
    expect(short.body.message).toMatch(/newPassword/)
    expect((await change({ currentPassword: PASSWORD, newPassword: 'đủ-dài-rồi-nhé' })).status).toBe(204)
    expect((await req('GET', '/api/auth/me', undefined, { cookie: first })).status).toBe(200)
    expect((await req('GET', '/api/auth/me', undefined, { cookie: second })).status).toBe(401)
    expect((await login('hoa')).status).toBe(401)
    expect((await login('hoa', 'đủ-dài-rồi-nhé')).status).toBe(200)
  })
})

describe('API tokens', () => {
  it('are created with the secret shown once, listed without it, used, and revoked', async () => {
    const created = await t.api<{ id: string; secret: string; role: string }>('POST', '/api/tokens', {
      name: 'CAP feed',
      role: 'viewer',
      scopeUnitId: 'xa-a',
    })
    expect(created.status).toBe(201)
    expect(created.body.secret).toMatch(/^loa_[a-z0-9]+_/)
    const as = t.apiWith({ authorization: `Bearer ${created.body.secret}` })
    expect((await as('GET', '/api/units')).status).toBe(200)
    expect((await as('POST', '/api/bulletins', {})).status).toBe(403)
    const list = await t.api<{ tokens: Record<string, unknown>[] }>('GET', '/api/tokens')
    const row = list.body.tokens.find((x) => x.id === created.body.id)
    expect(row).toMatchObject({ name: 'CAP feed', role: 'viewer', scopeUnitId: 'xa-a' })
    expect(row?.lastUsedAt).toEqual(expect.any(String))
    // The secret part is base64url and may itself contain '_': cut after the id, not on every '_'.
    expect(JSON.stringify(list.body)).not.toContain(
      created.body.secret.slice(`loa_${created.body.id}_`.length),
    )
    expect(JSON.stringify(list.body)).not.toMatch(/secret/i)
    expect((await t.api('DELETE', `/api/tokens/${created.body.id}`)).status).toBe(204)
    const revoked = await as('GET', '/api/units')
    expect(revoked.status).toBe(401)
    expect((await t.api('DELETE', `/api/tokens/${created.body.id}`)).status).toBe(404)
  })

  it('a scoped admin grants only scopes inside its own', async () => {
    const communeAdmin = t.apiAs({ role: 'province-admin', scopeUnitId: 'xa-a' })
    expect(
      (await communeAdmin('POST', '/api/tokens', { name: 'x', role: 'viewer', scopeUnitId: null })).status,
    ).toBe(403)
    expect(
      (await communeAdmin('POST', '/api/tokens', { name: 'x', role: 'viewer', scopeUnitId: 'prov' })).status,
    ).toBe(403)
    expect((await communeAdmin('POST', '/api/tokens', { name: 'x', role: 'viewer' })).status).toBe(201)
  })
})

describe('request limits', () => {
  it('refuses an oversized JSON body with 413 LOA_BODY_TOO_LARGE, and an unauthenticated one with 401 first', async () => {
    const big = { id: 'big', name: 'x'.repeat(300 * 1024), kind: 'commune', parentId: 'prov' }
    const r = await t.api('POST', '/api/units', big)
    expect(r.status).toBe(413)
    expect(r.body).toMatchObject({ code: 'LOA_BODY_TOO_LARGE' })
    expect((await t.apiWith({})('POST', '/api/units', big)).status).toBe(401)
    expect((await t.api('GET', '/api/units/big')).status).toBe(404)
  })
})

describe('secrets never in logs', () => {
  it('redacts authorization, cookies, passwords and token secrets', async () => {
    await createUser('khanh')
    const { cookie } = await login('khanh')
    await req('GET', '/api/auth/me', undefined, { cookie: cookie as string })
    const tok = await t.api<{ secret: string }>('POST', '/api/tokens', { name: 'logged?', role: 'viewer' })
    await t.apiWith({ authorization: `Bearer ${tok.body.secret}` })('GET', '/api/units')
    // Code that logs whole headers or bodies must still not leak them.
    t.cp.app.log.info(
      {
        headers: { authorization: `Bearer ${tok.body.secret}`, cookie },
        body: { password: PASSWORD, newPassword: PASSWORD },
        secret: tok.body.secret,
      },
      'debugging a request',
    )
    const all = logLines.join('')
    expect(all).toContain('debugging a request')
    expect(all).toContain('[redacted]')
    for (const secret of [PASSWORD, tok.body.secret, (cookie as string).split('=')[1], t.adminToken]) {
      expect(all).not.toContain(secret as string)
    }
    expect(all).toContain('bootstrap API token ensured')
  })
})
