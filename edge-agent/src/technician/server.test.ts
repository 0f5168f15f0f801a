import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { hashPassword } from '@loa/shared/password-hash'
import { makeTone, waitFor } from '@loa/testkit'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBroker } from '../../test-kit/servers.js'
import { silentLog, testAgentConfig, tmp } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'
import { TechnicianAuth } from './auth.js'
import { MAX_PENDING } from './plays.js'
import { buildLocalServer, OPEN_ROUTES, SESSION_COOKIE } from './server.js'

const PASSWORD = 'kỹ-thuật-viên 2026'
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field below
type Json = any
const json = async (res: Response): Promise<Json> => await res.json()

describe('technician page server over real HTTP', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let agent: Agent
  let app: FastifyInstance
  let base: string
  let cookie = ''
  const routes: { method: string; url: string }[] = []
  let clock = Date.now()

  const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(cookie ? { cookie } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const ampSwitchLog = () =>
    agent.db.prepare('SELECT at, "on" FROM relay_log ORDER BY seq').all() as { at: string; on: number }[]

  beforeAll(async () => {
    broker = await startBroker()
    // Cheap scrypt parameters: the test checks the flow, not the cost.
    const passwordHash = await hashPassword(PASSWORD, { N: 1024 })
    agent = new Agent(testAgentConfig('pi-local', broker.url, { technician: { passwordHash } }), silentLog)
    await agent.start()
    const auth = new TechnicianAuth(
      () => passwordHash,
      () => clock,
    )
    app = await buildLocalServer({
      agent,
      log: silentLog,
      auth,
      webDir: tmp(),
      onRoute: (method, url) => routes.push({ method, url }),
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await app?.close()
    await agent?.stop()
    await broker?.close()
  })

  it('refuses every API route without a session', async () => {
    const guarded = routes.filter(
      (r) => r.url.startsWith('/api/') && !OPEN_ROUTES.includes(r.url) && r.method !== 'HEAD',
    )
    expect(guarded.length).toBeGreaterThanOrEqual(8)
    for (const r of guarded) {
      const path = r.url.replace(':zone', 'main').replace(':id', 'local-00000000')
      const res = await req(r.method, path, r.method === 'GET' ? undefined : {})
      expect({ route: `${r.method} ${r.url}`, status: res.status }).toEqual({
        route: `${r.method} ${r.url}`,
        status: 401,
      })
      expect((await json(res)).code).toBe('LOA_LOCAL_UNAUTHORIZED')
    }
    // Nor under another spelling of the same route (percent-encoded letters are decoded by the router).
    for (const [method, path] of [
      ['GET', '/%61pi/status'],
      ['GET', '/api/st%61tus'],
      ['POST', '/%61pi/zones/main/relay'],
    ] as const) {
      const res = await req(method, path, method === 'POST' ? { on: true } : undefined)
      expect({ path, status: res.status }).toEqual({ path, status: 401 })
    }
    expect(agent.ampSwitch.isOn()).toBe(false)
    // A made-up token is no session either.
    cookie = `${SESSION_COOKIE}=forged`
    expect((await req('GET', '/api/status')).status).toBe(401)
    cookie = ''
  })

  it('refuses every login when no password is set, and says so', async () => {
    const bare = await buildLocalServer({
      agent,
      log: silentLog,
      auth: new TechnicianAuth(() => undefined),
      webDir: tmp(),
    })
    try {
      const auth = await bare.inject({ method: 'GET', url: '/api/auth' })
      expect(auth.json()).toMatchObject({ configured: false, loggedIn: false })
      const login = await bare.inject({ method: 'POST', url: '/api/login', payload: { password: '' } })
      expect(login.statusCode).toBe(503)
      expect(login.json().code).toBe('LOA_LOCAL_NO_PASSWORD')
      expect(login.headers['set-cookie']).toBeUndefined()
    } finally {
      await bare.close()
    }
  })

  it('locks an address out after five wrong passwords, then lets the right one in after the lockout', async () => {
    const auth = await json(await req('GET', '/api/auth'))
    expect(auth).toMatchObject({ configured: true, loggedIn: false, deviceId: 'pi-local' })
    for (let i = 0; i < 4; i++) {
      const res = await req('POST', '/api/login', { password: `sai ${i}` })
      expect(res.status).toBe(401)
      expect((await json(res)).code).toBe('LOA_LOCAL_WRONG_PASSWORD')
    }
    const fifth = await req('POST', '/api/login', { password: 'sai nữa' })
    expect(fifth.status).toBe(429)
    // Locked: even the right password is refused, and no cookie is set.
    const right = await req('POST', '/api/login', { password: PASSWORD })
    expect(right.status).toBe(429)
    expect(right.headers.get('set-cookie')).toBeNull()
    expect(Number((await json(right)).retryAfterS)).toBeGreaterThan(200)
    clock += 5 * 60_000 + 1000
    const after = await req('POST', '/api/login', { password: PASSWORD })
    expect(after.status).toBe(200)
    const set = after.headers.get('set-cookie') ?? ''
    expect(set).toMatch(/HttpOnly/i)
    expect(set).toMatch(/SameSite=Strict/i)
    cookie = set.split(';')[0] as string
    const status = await json(await req('GET', '/api/status'))
    expect(status).toMatchObject({ deviceId: 'pi-local', zones: [{ id: 'main' }] })
    expect(status.province.connected).toBe(true)
    // The clock as the agent knows it (configured trusted here; the last test puts it behind a signed time).
    expect(status.clock).toMatchObject({ state: 'trusted', jumps: 0, lastJumpAt: null })
    // Failures went to the province as events, without the password.
    const events = agent.db.prepare("SELECT body FROM outbox WHERE channel = 'event'").all() as {
      body: string
    }[]
    const text = events.map((e) => e.body).join('\n')
    expect(text).toContain('technician-login-failed')
    expect(text).not.toContain(PASSWORD)
  })

  it('refuses changes from another origin', async () => {
    const res = await req(
      'POST',
      '/api/zones/main/volume',
      { percent: 40 },
      { origin: 'http://evil.example' },
    )
    expect(res.status).toBe(403)
    expect(agent.box.zones()[0]?.volumePercent).not.toBe(40)
    const ok = await req('POST', '/api/zones/main/volume', { percent: 40 })
    expect(ok.status).toBe(200)
    expect(agent.box.zones()[0]?.volumePercent).toBe(40)
  })

  it('switches the amplifier on and off again by itself after the requested time', async () => {
    const before = ampSwitchLog().length
    const res = await req('POST', '/api/zones/main/relay', { on: true, seconds: 2 })
    expect(res.status).toBe(202)
    const { action } = await json(res)
    await waitFor(() => ampSwitchLog().length >= before + 2, 15_000, 'amplifier on then off')
    const [on, off] = ampSwitchLog().slice(before)
    expect(on?.on).toBe(1)
    expect(off?.on).toBe(0)
    const held = Date.parse(off?.at as string) - Date.parse(on?.at as string)
    // 2 s hold + 100 ms pre-roll + 100 ms post-roll; generous for a loaded machine.
    expect(held).toBeGreaterThanOrEqual(1900)
    expect(held).toBeLessThan(8000)
    expect(agent.localPlays.get(action.id)?.status).toBe('done')
  })

  it('switches the amplifier off early on request, and bounds the hold', async () => {
    const before = ampSwitchLog().length
    const res = await req('POST', '/api/zones/main/relay', { on: true, seconds: 3600 })
    const { action, maxSeconds } = await json(res)
    expect(action.seconds).toBe(maxSeconds)
    await waitFor(() => ampSwitchLog().length >= before + 1, 10_000, 'amplifier on')
    const off = await req('POST', '/api/zones/main/relay', { on: false })
    expect((await json(off)).cancelled).toEqual([action.id])
    await waitFor(() => ampSwitchLog().length >= before + 2, 10_000, 'amplifier off')
    expect(agent.localPlays.get(action.id)?.status).toBe('cancelled')
    expect((await req('POST', '/api/zones/main/relay', { on: true, seconds: 0 })).status).toBe(400)
    expect((await req('POST', '/api/zones/nowhere/relay', { on: true })).status).toBe(404)
  })

  it('refuses more than MAX_PENDING local actions at once, and takes them again once they are over', async () => {
    const ids: string[] = []
    for (let i = 0; i < MAX_PENDING; i++) {
      const res = await req('POST', '/api/zones/main/relay', { on: true, seconds: 600 })
      expect(res.status).toBe(202)
      ids.push((await json(res)).action.id)
    }
    const over = await req('POST', '/api/zones/main/test', { seconds: 1 })
    expect(over.status).toBe(429)
    expect((await json(over)).code).toBe('LOA_LOCAL_BUSY')
    for (const id of ids) expect((await req('POST', `/api/actions/${id}/cancel`, {})).status).toBe(200)
    await waitFor(
      () => !agent.localPlays.busy && !agent.ampSwitch.isOn(),
      10_000,
      'all cancelled, amplifier off',
    )
    expect(ids.map((id) => agent.localPlays.get(id)?.status)).toEqual(ids.map(() => 'cancelled'))
  })

  it('refuses broken, hostile and oversized uploads and keeps nothing of them', async () => {
    const upload = (data: Uint8Array, name: string) => {
      const form = new FormData()
      form.append('file', new Blob([data]), name)
      return fetch(`${base}/api/announcements`, { method: 'POST', headers: { cookie }, body: form })
    }
    const junk = await upload(new Uint8Array(4096).fill(7), '../../../tmp/evil;rm -rf ~.mp3')
    expect(junk.status).toBe(400)
    expect((await json(junk)).code).toBe('LOA_LOCAL_AUDIO_INVALID')
    const big = await upload(new Uint8Array(26 * 1024 * 1024), 'big.wav')
    expect(big.status).toBe(413)
    // A multipart body cut off in the middle.
    const cut = await fetch(`${base}/api/announcements`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'multipart/form-data; boundary=XyZ' },
      body: '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF....',
    })
    expect(cut.status).toBeGreaterThanOrEqual(400)
    expect(cut.status).toBeLessThan(500)
    const dir = join(agent.config.dataDir, 'local')
    expect(readdirSync(join(dir, 'uploads'))).toEqual([])
    expect(existsSync(join(dir, 'announcements')) ? readdirSync(join(dir, 'announcements')) : []).toEqual([])
    expect(existsSync('/tmp/evil;rm -rf ~.mp3')).toBe(false)

    // A real file with a hostile name plays, and its file is gone afterwards.
    const wav = join(tmp(), 'x.wav')
    makeTone(wav, 1, 600)
    const good = await upload(execFileSync('cat', [wav]), '"><script>alert(1)</script>.wav')
    expect(good.status).toBe(202)
    const { action } = await json(good)
    await waitFor(() => agent.localPlays.get(action.id)?.status === 'done', 20_000, 'announcement played')
    expect(readdirSync(join(dir, 'announcements'))).toEqual([])
    // The play report is written when the amplifier goes off again, after the post-roll.
    const play = await waitFor(
      () => agent.db.prepare('SELECT status, priority FROM plays WHERE schedule_id = ?').get(action.id),
      10_000,
      'play report',
    )
    expect(play).toEqual({ status: 'played', priority: 150 })
  })

  it('shows the clock behind a time the province signed: that time is "now", with the offset', async () => {
    // Last in this file: the floor cannot be lowered again, and later tests would run an hour ahead.
    const signedAhead = Date.now() + 3600_000
    agent.clock.vouch(signedAhead)
    const behind = (await json(await req('GET', '/api/status'))).clock
    expect(behind.state).toBe('behind-signed-time')
    expect(behind.offsetFromSignedMs).toBeLessThan(-3590_000)
    expect(Math.abs(Date.parse(behind.now) - signedAhead)).toBeLessThan(5000)
  })
})
