import fs from 'node:fs'
import net from 'node:net'
import { pacedPost } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeAudio, multipartBody, startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A media upload over real HTTP at the given pace (@loa/testkit's pacedPost). */
const paced = (
  url: string,
  token: string,
  content: Buffer,
  pace: { bytesPerTick: number; tickMs: number; stallMs?: number },
) => {
  const { payload, headers } = multipartBody('file', 'bulletin.wav', content, 'audio/wav')
  return pacedPost(`${url}/api/media`, {
    headers: { ...headers, authorization: `Bearer ${token}` },
    payload,
    ...pace,
  })
}

describe('HTTP limits on every connection (real sockets)', () => {
  let t: TestPlane
  let url: string
  let port: number
  let audio: Buffer
  const limits = {
    headersTimeoutMs: 1000,
    idleTimeoutMs: 3000,
    keepAliveTimeoutMs: 1000,
    minBodyBytesPerS: 8 * 1024,
    bodyRateWindowMs: 1500,
    maxUploadsPerAddress: 2,
    maxUploadsPerUser: 1,
  }
  const metric = async (reason: string) =>
    Number(
      new RegExp(`^loa_http_refusals_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(
        (await t.api<string>('GET', '/metrics')).body,
      )?.[1] ?? 0,
    )

  beforeAll(async () => {
    t = await startTestPlane({ httpLimits: limits })
    url = t.cp.httpUrl
    port = Number(new URL(url).port)
    // One second of audio: 88 KB, three seconds at 32 KB/s.
    audio = fs.readFileSync(makeAudio(t.dir, 'one-second.wav', { seconds: 1 }))
  })
  afterAll(async () => {
    await t.close()
  })

  it('cuts an upload trickling at 100 B/s with 408, and lets one at 32 KB/s with a stall through', async () => {
    const [trickle, phone] = await Promise.all([
      paced(url, t.adminToken, audio, { bytesPerTick: 10, tickMs: 100 }),
      paced(url, await t.tokenFor('province-operator', null), audio, {
        bytesPerTick: 4096,
        tickMs: 125,
        stallMs: 700,
      }),
    ])
    expect(trickle.status === 'closed' || trickle.status === 408).toBe(true)
    if (trickle.status === 408) expect(JSON.parse(trickle.body).code).toBe('LOA_REQUEST_TIMEOUT')
    // Cut within about one window, not after the minutes a trickle would take.
    expect(trickle.ms).toBeLessThan(limits.bodyRateWindowMs + 3000)
    expect(phone.status).toBe(201)
    expect(await metric('slow-body')).toBe(1)
  })

  it('closes a connection whose headers trickle, and one that never sends a request', async () => {
    const trickler = net.connect({ port, host: '127.0.0.1' })
    const idle = net.connect({ port, host: '127.0.0.1' })
    const kept = net.connect({ port, host: '127.0.0.1' })
    kept.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    kept.resume()
    const got: string[] = []
    trickler.on('data', (d) => got.push(String(d)))
    // Reading, so each side sees the server's close.
    idle.resume()
    for (const s of [trickler, idle, kept]) s.on('error', () => {})
    const t0 = performance.now()
    trickler.write('POST /api/media HTTP/1.1\r\nHost: x\r\n')
    const drip = setInterval(() => trickler.writable && trickler.write('X-A: b\r\n'), 200)
    const closedAt = (s: net.Socket) =>
      new Promise<number>((r) => s.once('close', () => r(performance.now() - t0)))
    const [tricklerMs, idleMs, keptMs] = await Promise.all([
      closedAt(trickler),
      closedAt(idle),
      closedAt(kept),
    ])
    clearInterval(drip)
    expect(tricklerMs).toBeLessThan(limits.headersTimeoutMs + 2000)
    expect(got.join('')).toMatch(/^HTTP\/1.1 408/)
    expect(idleMs).toBeLessThan(limits.headersTimeoutMs + 2000)
    // A kept-alive connection waits for its next request only so long.
    expect(keptMs).toBeLessThan(limits.keepAliveTimeoutMs + 2000)
    // A connection silent both ways (e.g. a client that stopped reading a download) is closed after this.
    expect(t.cp.app.server.timeout).toBe(limits.idleTimeoutMs)
  })

  it('caps uploads in progress per user and per address', async () => {
    const operator = await t.tokenFor('province-operator', null)
    const slow = { bytesPerTick: 4096, tickMs: 100 }
    const first = paced(url, t.adminToken, audio, slow)
    await sleep(300)
    // The same user again: refused at once, the first goes on.
    const again = await paced(url, t.adminToken, audio, { bytesPerTick: 64 * 1024, tickMs: 1 })
    expect(again.status).toBe(429)
    expect(JSON.parse(again.body).code).toBe('LOA_TOO_MANY_UPLOADS')
    // Another user from the same address takes the address's second slot; a third upload has none left.
    const second = paced(url, operator, audio, slow)
    await sleep(300)
    const third = await paced(url, await t.tokenFor('province-admin', null), audio, {
      bytesPerTick: 64 * 1024,
      tickMs: 1,
    })
    expect(third.status).toBe(429)
    expect((await first).status).toBe(201)
    expect((await second).status).toBe(201)
    // Slots come back when uploads end.
    const later = await paced(url, t.adminToken, audio, { bytesPerTick: 64 * 1024, tickMs: 1 })
    expect(later.status).toBe(201)
    expect(await metric('too-many-uploads')).toBe(2)
  })
})
