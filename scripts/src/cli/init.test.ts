import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPlane, type TestPlane } from '../../../control-plane/test-kit/test-helpers.js'
import { cliEnv, modeOf, runCli } from '../../test-kit/cli.js'

interface Profile {
  apiUrl: string
  token: string
  tokenId: string
  province: { id: string }
}

describe('loa init, login and tokens', { timeout: 180_000 }, () => {
  let t: TestPlane
  let dir: string
  let env: Record<string, string>
  let home: string
  const profile = () => path.join(home, '.config', 'loa', 'profile.json')

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cli-init-'))
    t = await startTestPlane({ dataDir: path.join(dir, 'data') })
    const e = cliEnv()
    env = e.env
    home = e.home
  })
  afterAll(async () => {
    await t.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('creates the province and its administrator once, with a working token in a 0600 profile', async () => {
    const r = await runCli(
      [
        '--json',
        '--api',
        t.cp.httpUrl,
        'init',
        '--data-dir',
        t.dir,
        '--province-code',
        '45',
        '--province-name',
        'Quảng Trị',
        '--admin',
        'admin',
      ],
      { env },
    )
    expect(r.code, r.stderr).toBe(0)
    const doc = r.json<{
      province: { id: string; created: boolean }
      admin: { username: string }
      adminPassword: string
    }>()
    expect(doc.province).toEqual({ id: '45', name: 'Quảng Trị', created: true })
    // Not on a terminal and no --admin-password: one was generated, shown once.
    expect(doc.adminPassword).toMatch(/^[A-Za-z2-9]{20}$/)
    const login = await t.apiWith({})('POST', '/api/auth/login', {
      username: 'admin',
      password: doc.adminPassword,
    })
    expect(login.status).toBe(200)

    expect(modeOf(profile())).toBe(0o600)
    const p = JSON.parse(fs.readFileSync(profile(), 'utf8')) as Profile
    expect(p).toMatchObject({ apiUrl: t.cp.httpUrl, province: { id: '45' } })
    // Later commands need no flags: the profile's token is a province admin's.
    const units = await runCli(['--json', 'units', 'list'], { env })
    expect(units.code, units.stderr).toBe(0)
    expect(units.json<{ units: { id: string; kind: string }[] }>().units).toEqual([
      expect.objectContaining({ id: '45', kind: 'province', code: '45' }),
    ])

    // Twice: refused, whether the profile is there or not.
    const again = await runCli(
      [
        '--api',
        t.cp.httpUrl,
        'init',
        '--data-dir',
        t.dir,
        '--province-code',
        '45',
        '--province-name',
        'X',
        '--admin',
        'admin2',
        '--admin-password',
        'a-long-password',
      ],
      { env },
    )
    expect(again.code).toBe(73)
    const elsewhere = await runCli(
      [
        '--profile',
        path.join(dir, 'other.json'),
        '--api',
        t.cp.httpUrl,
        'init',
        '--data-dir',
        t.dir,
        '--province-code',
        '45',
        '--province-name',
        'X',
        '--admin',
        'admin2',
        '--admin-password',
        'a-long-password',
      ],
      { env },
    )
    expect(elsewhere.code).toBe(73)
    expect(elsewhere.stderr).toContain('already initialised')
    expect(fs.existsSync(path.join(dir, 'other.json'))).toBe(false)
  })

  it("never sends the profile's token to another server named by --api", async () => {
    const seen: (string | undefined)[] = []
    const srv = http.createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.setHeader('content-type', 'application/json')
      res.end('{"clusters":[]}')
    })
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    try {
      const other = `http://127.0.0.1:${(srv.address() as { port: number }).port}`
      const r = await runCli(['--api', other, 'devices', 'list'], { env })
      expect(r.code, r.stderr).toBe(0)
      expect(seen).toEqual([undefined])
      // The profile's own server still gets it.
      expect((await runCli(['--api', t.cp.httpUrl, 'devices', 'list'], { env })).code).toBe(0)
    } finally {
      srv.close()
    }
  })

  it('tokens: create (secret once), list, revoke; a revoked token is refused (77)', async () => {
    const created = await runCli(['--json', 'tokens', 'create', '--name', 'CAP feed', '--role', 'viewer'], {
      env,
    })
    expect(created.code, created.stderr).toBe(0)
    const tok = created.json<{ id: string; secret: string; role: string }>()
    expect(tok.secret).toMatch(/^loa_/)
    const list = await runCli(['--json', 'tokens', 'list'], { env })
    expect(list.json<{ tokens: { id: string; name: string }[] }>().tokens).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: tok.id, name: 'CAP feed' })]),
    )
    expect(list.stdout).not.toContain(tok.secret)

    // The new token logs in to a second profile and can read but not administer.
    const other = path.join(dir, 'viewer.json')
    const login = await runCli(['--profile', other, '--api', t.cp.httpUrl, 'login'], {
      env,
      input: `${tok.secret}\n`,
    })
    expect(login.code, login.stderr).toBe(0)
    expect(modeOf(other)).toBe(0o600)
    expect((await runCli(['--profile', other, 'devices', 'list'], { env })).code).toBe(0)
    const denied = await runCli(['--profile', other, '--json', 'keys', 'rotate'], { env })
    expect(denied.code).toBe(77)

    expect((await runCli(['tokens', 'revoke', tok.id, '--yes'], { env })).code).toBe(0)
    const refused = await runCli(['--profile', other, 'devices', 'list'], { env })
    expect(refused.code).toBe(77)
    const badLogin = await runCli(
      [
        '--profile',
        path.join(dir, 'x.json'),
        '--api',
        t.cp.httpUrl,
        'login',
        '--token',
        'loa_nope_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      ],
      { env },
    )
    expect(badLogin.code).toBe(77)
    expect(fs.existsSync(path.join(dir, 'x.json'))).toBe(false)
    // No credentials at all.
    expect(
      (
        await runCli(['--api', t.cp.httpUrl, '--profile', path.join(dir, 'none.json'), 'devices', 'list'], {
          env,
        })
      ).code,
    ).toBe(77)
  })

  it('keys list and rotate; mosquitto export writes the password file 0600', async () => {
    const before = await runCli(['--json', 'keys', 'list'], { env })
    expect(before.code, before.stderr).toBe(0)
    const k0 = before.json<{ current: string; keys: unknown[] }>()
    const rotated = await runCli(['--json', 'keys', 'rotate'], { env })
    expect(rotated.code, rotated.stderr).toBe(0)
    const k1 = rotated.json<{ keyId: string; current: boolean }>()
    expect(k1.keyId).not.toBe(k0.current)
    const after = await runCli(['--json', 'keys', 'list'], { env })
    expect(after.json<{ current: string; keys: unknown[] }>()).toMatchObject({ current: k1.keyId })
    expect(after.json<{ keys: unknown[] }>().keys).toHaveLength(k0.keys.length + 1)

    const out = path.join(dir, 'mosquitto')
    const m = await runCli(['--json', 'mosquitto', 'export', '--out', out], { env })
    expect(m.code, m.stderr).toBe(0)
    const doc = m.json<{ passwordFile: string; aclFile: string; configFile: string; users: number }>()
    expect(modeOf(doc.passwordFile)).toBe(0o600)
    expect(fs.readFileSync(doc.configFile, 'utf8')).toContain('password_file /etc/mosquitto/loa.passwd')
    expect(fs.readFileSync(doc.aclFile, 'utf8')).toContain('topic')
  })
})
