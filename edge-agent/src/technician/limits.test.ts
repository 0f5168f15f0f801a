import { readFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { hashPassword } from '@loa/shared/password-hash'
import { makeTone, pacedPost } from '@loa/testkit'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_KEY } from '../../test-kit/messages.js'
import { startBroker } from '../../test-kit/servers.js'
import { silentLog, testAgentConfig, tmp } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'
import { loadConfig } from '../config/config.js'
import { buildLocalServer, SESSION_COOKIE } from './server.js'

const KEY = { LOA_CONTROL_PLANE_KEY_ID: TEST_KEY.keyId, LOA_CONTROL_PLANE_PUBLIC_KEY: TEST_KEY.publicKey }

const PASSWORD = 'kỹ-thuật-viên limits'

describe("the technician page's connection limits (real sockets)", () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let agent: Agent
  let app: FastifyInstance
  let base: string
  let port: number
  let cookie = ''
  let wav: Buffer
  const limits = { minBodyBytesPerS: 8 * 1024, bodyRateWindowMs: 1500, headersTimeoutMs: 1000 }

  /** An announcement upload at the given pace. */
  const upload = (pace: { bytesPerTick: number; tickMs: number; stallMs?: number }) => {
    const boundary = 'loaLimitsBoundary'
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n` +
          'Content-Type: audio/wav\r\n\r\n',
      ),
      wav,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ])
    return pacedPost(`${base}/api/announcements`, {
      headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
      ...pace,
    })
  }

  beforeAll(async () => {
    broker = await startBroker()
    const passwordHash = await hashPassword(PASSWORD, { N: 1024 })
    agent = new Agent(testAgentConfig('pi-limits', broker.url, { technician: { passwordHash } }), silentLog)
    await agent.start()
    app = await buildLocalServer({ agent, log: silentLog, webDir: tmp(), limits })
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = (app.server.address() as { port: number }).port
    base = `http://127.0.0.1:${port}`
    const login = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    })
    cookie = `${SESSION_COOKIE}=${/loa_tech=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1]}`
    const file = join(tmp(), 'one-second.wav')
    makeTone(file, 1, 600)
    wav = readFileSync(file)
  })
  afterAll(async () => {
    await app?.close()
    await agent?.stop()
    await broker?.close()
  })

  it('cuts an upload trickling at 100 B/s and lets a phone at 32 KB/s with a stall through', async () => {
    const [trickle, phone] = await Promise.all([
      upload({ bytesPerTick: 10, tickMs: 100 }),
      upload({ bytesPerTick: 4096, tickMs: 125, stallMs: 700 }),
    ])
    expect(trickle.status === 'closed' || trickle.status === 408).toBe(true)
    if (trickle.status === 408) expect(JSON.parse(trickle.body).code).toBe('LOA_LOCAL_TIMEOUT')
    expect(trickle.ms).toBeLessThan(limits.bodyRateWindowMs + 3000)
    expect(phone.status).toBe(202)
  })

  it('closes a connection whose headers trickle, and caps uploads at once per address', async () => {
    const trickler = net.connect({ port, host: '127.0.0.1' })
    trickler.on('error', () => {})
    const got: string[] = []
    trickler.on('data', (d) => got.push(String(d)))
    const t0 = performance.now()
    trickler.write('POST /api/announcements HTTP/1.1\r\nHost: x\r\n')
    const drip = setInterval(() => trickler.writable && trickler.write('X-A: b\r\n'), 200)
    await new Promise((r) => trickler.once('close', r))
    clearInterval(drip)
    expect(performance.now() - t0).toBeLessThan(limits.headersTimeoutMs + 2000)
    expect(got.join('')).toMatch(/^HTTP\/1.1 408/)
    // Two uploads in progress from this address: a third is refused at once, before its body is read.
    const slow = { bytesPerTick: 4096, tickMs: 100 }
    const first = [upload(slow), upload(slow)]
    await new Promise((r) => setTimeout(r, 300))
    const third = await upload({ bytesPerTick: 64 * 1024, tickMs: 1 })
    expect(third.status).toBe(429)
    expect(JSON.parse(third.body).code).toBe('LOA_LOCAL_BUSY')
    for (const r of await Promise.all(first)) expect(r.status).not.toBe('closed')
  })

  it('reads the body rate from the config, with defaults', () => {
    const env = { LOA_DEVICE_ID: 'pi-1', ...KEY }
    const defaults = loadConfig([], env).localPage
    expect(defaults).toMatchObject({ minBodyBytesPerS: 2048, bodyRateWindowS: 30 })
    const set = loadConfig([], { ...env, LOA_LOCAL_PAGE_MIN_BODY_RATE: '512' }).localPage
    expect(set?.minBodyBytesPerS).toBe(512)
    expect(() => loadConfig([], { ...env, LOA_LOCAL_PAGE_BODY_RATE_WINDOW_S: '0' })).toThrow(
      /localPage.bodyRateWindowS/,
    )
  })
})
