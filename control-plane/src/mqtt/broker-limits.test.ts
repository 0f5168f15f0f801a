import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import tls from 'node:tls'
import { CHANNEL_MESSAGES } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import mqtt, { type MqttClient } from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  devicePassword,
  mqttRemainingLength,
  planeClient,
  seedTree,
  startTestPlane,
  type TestPlane,
} from '../../test-kit/test-helpers.js'

/** A raw TCP socket to the broker, from `localAddress` (any 127.0.0.0/8 address is this host on Linux). */
async function rawSocket(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress })
  s.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve)
    s.once('error', reject)
  })
  return s
}

const closed = (s: net.Socket) =>
  s.destroyed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r()))

/** An MQTT client whose TCP connection starts from `localAddress`; resolves once connected or refused. */
function clientFrom(
  port: number,
  localAddress: string,
  opts: mqtt.IClientOptions,
): Promise<{ client: MqttClient; error: string | null; ms: number }> {
  const t0 = performance.now()
  const client = new mqtt.MqttClient(() => net.createConnection({ port, host: '127.0.0.1', localAddress }), {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...opts,
  })
  return new Promise((resolve) => {
    const done = (error: string | null) => resolve({ client, error, ms: performance.now() - t0 })
    client.once('connect', () => done(null))
    client.once('error', (err) => done(err.message))
    client.once('close', () => done('closed'))
  })
}

describe('limits on every broker connection (embedded aedes)', () => {
  let t: TestPlane
  let port: number
  let watcher: MqttClient
  const seen: string[] = []
  const logLines: { msg: string; reason?: string; suppressed?: number }[] = []
  const limits = {
    connectMaxBytes: 4096,
    loginTimeoutMs: 1500,
    maxPendingPerAddress: 8,
    loginFailureBurst: 5,
    loginFailureRefillMs: 600_000,
    loginFailureDelayMs: 700,
    refusalLogPerMinute: 10,
  }

  const metric = async (action: string, reason: string) =>
    Number(
      new RegExp(`^loa_broker_refusals_total\\{action="${action}",reason="${reason}"\\} (\\d+)$`, 'm').exec(
        (await t.api<string>('GET', '/metrics')).body,
      )?.[1] ?? 0,
    )
  const device = (id: string, localAddress = '127.0.0.1', password?: string) =>
    (async () =>
      clientFrom(port, localAddress, {
        clientId: `loa-agent-${id}`,
        username: id,
        password: password ?? (await devicePassword(t, id)),
      }))()

  beforeAll(async () => {
    const capture = new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line))
        cb()
      },
    })
    t = await startTestPlane({ mqttLimits: limits, logger: pino({ level: 'warn' }, capture) })
    port = Number(new URL(t.cp.mqttUrl).port)
    await seedTree(t)
    watcher = await planeClient(t, 'test-watcher')
    watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.length}`))
    await watcher.subscribeAsync('loa/v1/#', { qos: 1 })
  })
  afterAll(async () => {
    await watcher.endAsync(true)
    await t.close()
  })

  it('cuts a CONNECT declared as 200 MB after its header, not after 200 MB', async () => {
    const s = await rawSocket(port)
    s.write(Buffer.from([0x10, ...mqttRemainingLength(200 * 1024 * 1024)]))
    const gone = closed(s)
    let sent = 0
    const chunk = Buffer.alloc(16 * 1024, 0x41)
    // Paced writes (the broker runs in this process): each chunk is read before the next is written.
    while (!s.destroyed && sent < 8 * 1024 * 1024) {
      await new Promise<void>((r) => s.write(chunk, () => r()))
      sent += chunk.length
      await new Promise((r) => setImmediate(r))
    }
    await gone
    // At most what one read hands the parser beyond the limit (a socket read is 64 KiB).
    expect(sent).toBeLessThanOrEqual(limits.connectMaxBytes + 64 * 1024)
    expect(await metric('connect', 'too-large')).toBe(1)
    // A CONNECT within the limit is served as before.
    const ok = await device('c-a')
    expect(ok.error).toBeNull()
    await ok.client.endAsync(true)
  })

  it('disconnects a device publishing an oversized message on its own topic, and counts it', async () => {
    const max = CHANNEL_MESSAGES.telemetry.maxBytes
    // The largest message its channel allows still goes through (the broker does not look inside).
    const a = await device('c-a')
    expect(a.error).toBeNull()
    await a.client.publishAsync('loa/v1/device/c-a/telemetry', Buffer.alloc(max, 0x20), { qos: 1 })
    await waitFor(
      () => seen.includes(`loa/v1/device/c-a/telemetry ${max}`),
      10_000,
      'largest telemetry forwarded',
    )
    for (const [topic, size] of [
      ['loa/v1/device/c-a/telemetry', max + 1],
      ['loa/v1/device/c-a/reported', 8 * 1024 * 1024],
    ] as const) {
      const c = a.client.connected ? a.client : (await device('c-a')).client
      const gone = new Promise<void>((r) => c.once('close', () => r()))
      c.publish(topic, Buffer.alloc(size, 0x20), { qos: 1 })
      await gone
      c.end(true)
    }
    expect(await metric('publish', 'too-large')).toBe(2)
    await new Promise((r) => setTimeout(r, 200))
    expect(
      seen.filter((s) => s === `loa/v1/device/c-a/telemetry ${max + 1}` || s.includes('/reported')),
    ).toEqual([])
    const events = await waitFor(
      async () => {
        const r = await t.api<{ events: { data: { reason: string; topic?: string } }[] }>(
          'GET',
          '/api/events?clusterId=c-a&kind=broker-refused',
        )
        const tooLarge = r.body.events.filter((e) => e.data.reason === 'too-large')
        return tooLarge.length >= 2 ? tooLarge : null
      },
      10_000,
      'too-large events',
    )
    expect(events.map((e) => e.data.topic).sort()).toEqual([
      'loa/v1/device/c-a/reported',
      'loa/v1/device/c-a/telemetry',
    ])
  })

  it('closes a socket that never logs in, and one that trickles its CONNECT', async () => {
    const before = await metric('connect', 'timeout')
    const idle = await rawSocket(port)
    const trickle = await rawSocket(port)
    const t0 = performance.now()
    const drip = setInterval(() => trickle.writable && trickle.write(Buffer.from([0x10])), 100)
    trickle.write(Buffer.from([0x10, 40]))
    await Promise.all([closed(idle), closed(trickle)])
    clearInterval(drip)
    const ms = performance.now() - t0
    expect(ms).toBeGreaterThanOrEqual(limits.loginTimeoutMs - 100)
    expect(ms).toBeLessThan(limits.loginTimeoutMs + 3000)
    expect(await metric('connect', 'timeout')).toBe(before + 2)
  })

  it('caps connections waiting to log in per address; other addresses are not affected', async () => {
    const held = await Promise.all(
      Array.from({ length: limits.maxPendingPerAddress }, () => rawSocket(port, '127.0.0.3')),
    )
    const extra = await rawSocket(port, '127.0.0.3')
    await closed(extra)
    expect(held.every((s) => !s.destroyed)).toBe(true)
    expect(await metric('connect', 'too-many-pending')).toBeGreaterThanOrEqual(1)
    const b = await device('c-b', '127.0.0.4')
    expect(b.error).toBeNull()
    await b.client.endAsync(true)
    for (const s of held) s.destroy()
  })

  it('throttles failed logins from one address; correct logins from it and elsewhere get in at once', async () => {
    const attacker = '127.0.0.2'
    const passA = await devicePassword(t, 'c-a')
    const wrong = () => device('c-a1', attacker, `${passA}x`)
    const first: number[] = []
    for (let i = 0; i < limits.loginFailureBurst; i++) {
      const r = await wrong()
      expect(r.error).toMatch(/Bad username or password/)
      first.push(r.ms)
      r.client.end(true)
    }
    // Within its burst an address is answered at once; after it, each failure waits.
    expect(Math.max(...first)).toBeLessThan(limits.loginFailureDelayMs)
    const late = await wrong()
    expect(late.error).toMatch(/Bad username or password/)
    expect(late.ms).toBeGreaterThanOrEqual(limits.loginFailureDelayMs - 50)
    late.client.end(true)
    // A flood meanwhile (four connections at a time, within the address's waiting room): all refused.
    const flood = Array.from({ length: 4 }, async () => {
      const out: Awaited<ReturnType<typeof wrong>>[] = []
      for (let i = 0; i < 5; i++) out.push(await wrong())
      return out
    })
    // The legitimate box behind the same address, and one elsewhere, connect promptly during the flood.
    const [same, other] = await Promise.all([device('c-b', attacker), device('c-a', '127.0.0.5')])
    expect(same.error).toBeNull()
    expect(other.error).toBeNull()
    expect(same.ms).toBeLessThan(limits.loginFailureDelayMs)
    expect(other.ms).toBeLessThan(limits.loginFailureDelayMs)
    const results = (await Promise.all(flood)).flat()
    expect(results.every((r) => r.error !== null)).toBe(true)
    for (const r of [...results, same, other]) r.client.end(true)
    expect(await metric('connect', 'throttled')).toBe(21)
    // Every refusal of this file (over 30) made at most the per-minute lines (and a summary later), not one each.
    const refusalLines = logLines.filter((l) => l.msg.startsWith('broker refused'))
    expect(refusalLines.length).toBeLessThanOrEqual(limits.refusalLogPerMinute + 1)
  })
})

describe('the same limits over MQTT/TLS', () => {
  let t: TestPlane
  let port: number
  let ca: Buffer
  let dir: string
  const loginTimeoutMs = 800

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-limits-tls-'))
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem']
        .concat(['-out', 'cert.pem', '-subj', '/CN=127.0.0.1', '-days', '2'])
        .concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
      { cwd: dir, stdio: 'pipe' },
    )
    ca = fs.readFileSync(path.join(dir, 'cert.pem'))
    t = await startTestPlane({
      tlsCertFile: path.join(dir, 'cert.pem'),
      tlsKeyFile: path.join(dir, 'key.pem'),
      tlsCaFile: path.join(dir, 'cert.pem'),
      mqttLimits: { loginTimeoutMs },
    })
    port = Number(new URL(t.cp.mqttUrl).port)
    await seedTree(t)
  })
  afterAll(async () => {
    await t.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('a device logged in over TLS stays connected past the login deadline; a stalled handshake does not', async () => {
    const stalled = await rawSocket(port)
    const a = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      ca,
      clientId: 'loa-agent-c-a',
      username: 'c-a',
      password: await devicePassword(t, 'c-a'),
      protocolVersion: 4,
      reconnectPeriod: 0,
    })
    let dropped = false
    a.on('close', () => {
      dropped = true
    })
    await closed(stalled)
    await new Promise((r) => setTimeout(r, loginTimeoutMs * 2))
    expect(dropped).toBe(false)
    await a.publishAsync('loa/v1/device/c-a/event', Buffer.from('{}'), { qos: 1 })
    // A TLS client that completes the handshake and then never logs in is closed as well.
    const silent = tls.connect({ port, host: '127.0.0.1', ca })
    silent.on('error', () => {})
    await new Promise<void>((r) => silent.once('secureConnect', () => r()))
    silent.resume()
    await new Promise<void>((r) => silent.once('close', () => r()))
    await a.endAsync(true)
  })
})
