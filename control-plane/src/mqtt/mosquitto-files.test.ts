import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { CHANNEL_MESSAGES } from '@loa/shared'
import { freePort, waitFor } from '@loa/testkit'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  devicePassword,
  mqttRemainingLength,
  seedTree,
  startTestPlane,
  type TestPlane,
} from '../../test-kit/test-helpers.js'
import { CONTROL_PLANE_PUBLISH_MAX_BYTES } from './broker-limits.js'

const MOSQUITTO = '/usr/sbin/mosquitto'

async function attempt(url: string, opts: mqtt.IClientOptions): Promise<string | MqttClient> {
  try {
    return await mqtt.connectAsync(url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...opts,
    })
  } catch (err) {
    return (err as Error).message
  }
}

describe.skipIf(!fs.existsSync(MOSQUITTO))('Mosquitto with the generated password and ACL files', () => {
  let t: TestPlane
  let dir: string
  let proc: ChildProcess
  let log = ''
  let url: string
  let cp: MqttClient
  const seen: string[] = []

  let port = 0
  const writeFiles = async () => {
    const r = await t.api<{ passwordFile: string; aclFile: string; configSnippet: string }>(
      'GET',
      '/api/broker/mosquitto',
    )
    expect(r.status).toBe(200)
    // Readable by all: Mosquitto started as root drops to the `mosquitto` user before reading them (test only).
    fs.writeFileSync(path.join(dir, 'loa.passwd'), r.body.passwordFile, { mode: 0o644 })
    fs.writeFileSync(path.join(dir, 'loa.acl'), r.body.aclFile, { mode: 0o644 })
    return r.body
  }
  const device = async (id: string) => {
    const c = await attempt(url, {
      clientId: `loa-agent-${id}`,
      username: id,
      password: await devicePassword(t, id),
    })
    if (typeof c === 'string') throw new Error(`${id}: ${c}`)
    return c
  }

  beforeAll(async () => {
    t = await startTestPlane()
    await seedTree(t)
    for (const id of ['c-a', 'c-a1', 'c-b']) await devicePassword(t, id)
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-mosq-'))
    fs.chmodSync(dir, 0o755)
    const { configSnippet } = await writeFiles()
    port = await freePort()
    // The limits exactly as the generated snippet sets them.
    const limits = configSnippet.split('\n').filter((l) => /^max_/.test(l))
    expect(limits.length).toBeGreaterThan(0)
    fs.writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      [
        'per_listener_settings false',
        'allow_anonymous false',
        `password_file ${path.join(dir, 'loa.passwd')}`,
        `acl_file ${path.join(dir, 'loa.acl')}`,
        `listener ${port} 127.0.0.1`,
        'use_username_as_clientid true',
        'persistence false',
        'log_dest stderr',
        'log_type all',
        ...limits,
        '',
      ].join('\n'),
    )
    proc = spawn(MOSQUITTO, ['-c', path.join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] })
    proc.stdout?.on('data', (d) => {
      log += d
    })
    proc.stderr?.on('data', (d) => {
      log += d
    })
    await waitFor(() => log.includes('running'), 10_000, 'mosquitto running').catch((err: Error) => {
      throw new Error(`${err.message}: ${log}`)
    })
    url = `mqtt://127.0.0.1:${port}`
    const identity = fs.readFileSync(path.join(t.dir, 'mqtt-control-plane.secret'), 'utf8').trim()
    const c = await attempt(url, {
      clientId: 'loa-control-plane',
      username: 'loa-control-plane',
      password: identity,
    })
    if (typeof c === 'string') throw new Error(`control plane identity refused: ${c}`)
    cp = c
    cp.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`))
    await cp.subscribeAsync('loa/v1/#', { qos: 1 })
  })
  afterAll(async () => {
    await cp?.endAsync(true)
    proc?.kill('SIGTERM')
    await t.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('accepts the hashes as written, refuses anonymous and wrong secrets, and impersonation', async () => {
    const passA = await devicePassword(t, 'c-a')
    expect(await attempt(url, { clientId: 'anon' })).toMatch(/Not authorized|Bad username/i)
    expect(await attempt(url, { clientId: 'c-a', username: 'c-a', password: `${passA}x` })).toMatch(
      /Not authorized|Bad username/i,
    )
    expect(await attempt(url, { clientId: 'c-b', username: 'c-b', password: passA })).toMatch(
      /Not authorized|Bad/i,
    )
    const a = await device('c-a')
    await a.endAsync(true)
  })

  it('devices publish only on their own upward topics and read only theirs and their units', async () => {
    const a = await device('c-a')
    const b = await device('c-b')
    const aGot: string[] = []
    a.on('message', (topic, payload) => aGot.push(`${topic} ${payload.toString()}`))
    // Subscriptions outside its rights are refused or never delivered.
    for (const topic of ['loa/v1/device/c-b/desired', 'loa/v1/unit/xa-b/cmd', 'loa/v1/device/+/cmd']) {
      await a.subscribeAsync(topic, { qos: 1 }).catch(() => {})
    }
    await a.subscribeAsync(['loa/v1/device/c-a/cmd', 'loa/v1/unit/prov/cmd', 'loa/v1/unit/xa-a/cmd'], {
      qos: 1,
    })
    // A impersonates B and the control plane.
    await a.publishAsync('loa/v1/device/c-b/telemetry', 'forged-by-a', { qos: 1 })
    await a.publishAsync('loa/v1/device/c-a/cmd', 'forged-by-a', { qos: 1 })
    await a.publishAsync('loa/v1/unit/xa-a/cmd', 'forged-by-a', { qos: 1 })
    // Legitimate traffic meanwhile.
    await b.publishAsync('loa/v1/device/c-b/telemetry', 'from-b', { qos: 1 })
    await cp.publishAsync('loa/v1/device/c-b/desired', 'for-b', { qos: 1 })
    await cp.publishAsync('loa/v1/unit/xa-b/cmd', 'for-xa-b', { qos: 1 })
    await cp.publishAsync('loa/v1/unit/xa-a/cmd', 'for-xa-a', { qos: 1 })
    await cp.publishAsync('loa/v1/device/c-a/cmd', 'for-a', { qos: 1 })
    await waitFor(
      () => seen.includes('loa/v1/device/c-b/telemetry from-b'),
      10_000,
      'B telemetry reaches the plane',
    )
    await waitFor(() => aGot.includes('loa/v1/unit/xa-a/cmd for-xa-a'), 10_000, 'A gets its commune command')
    await waitFor(() => aGot.includes('loa/v1/device/c-a/cmd for-a'), 10_000, 'A gets its own command')
    await new Promise((r) => setTimeout(r, 300))
    expect(seen.filter((s) => s.endsWith('forged-by-a'))).toEqual([])
    expect(
      aGot.filter((s) => s.includes('for-b') || s.includes('for-xa-b') || s.endsWith('forged-by-a')),
    ).toEqual([])
    expect(log).toMatch(/Denied PUBLISH from c-a/)
    await a.endAsync(true)
    await b.endAsync(true)
  })

  it("the snippet's max_packet_size cuts a 200 MB CONNECT and an oversized publish from their headers", async () => {
    const s = net.connect({ port, host: '127.0.0.1' })
    s.on('error', () => {})
    await new Promise<void>((r) => s.once('connect', () => r()))
    const gone = new Promise<void>((r) => s.once('close', () => r()))
    s.write(Buffer.from([0x10, ...mqttRemainingLength(200 * 1024 * 1024)]))
    let sent = 0
    const chunk = Buffer.alloc(64 * 1024, 0x41)
    const pump = (async () => {
      while (!s.destroyed && sent < 64 * 1024 * 1024) {
        await new Promise<void>((r) => s.write(chunk, () => r()))
        sent += chunk.length
      }
    })()
    await gone
    await pump
    // Mosquitto reads the header, refuses, and closes: what got through is socket buffers, far from 200 MB.
    expect(sent).toBeLessThan(32 * 1024 * 1024)
    await waitFor(() => log.includes('oversize packet'), 10_000, 'mosquitto logs the oversize packet')
    // The largest message of any channel (a desired state) passes; a larger packet disconnects its client.
    const a = await device('c-a')
    const largest = Math.max(...Object.values(CHANNEL_MESSAGES).map((m) => m.maxBytes))
    await a.publishAsync('loa/v1/device/c-a/reported', Buffer.alloc(largest, 0x20), { qos: 1 })
    await waitFor(
      () => seen.some((x) => x.startsWith('loa/v1/device/c-a/reported ')),
      10_000,
      'largest publish',
    )
    const closed = new Promise<void>((r) => a.once('close', () => r()))
    a.publish('loa/v1/device/c-a/reported', Buffer.alloc(CONTROL_PLANE_PUBLISH_MAX_BYTES, 0x20), { qos: 1 })
    await closed
    a.end(true)
  })

  it('a revoked device is refused once the files are regenerated and Mosquitto reloads them', async () => {
    const b = await device('c-b')
    expect((await t.api('POST', '/api/clusters/c-a1/revoke')).status).toBe(200)
    const files = await writeFiles()
    expect(files.passwordFile).not.toMatch(/^c-a1:/m)
    expect(files.aclFile).not.toMatch(/^user c-a1$/m)
    proc.kill('SIGHUP')
    await waitFor(() => log.includes('Reloading config'), 10_000, 'reload')
    const pass = await devicePassword(t, 'c-a1')
    await waitFor(
      async () => {
        const r = await attempt(url, { clientId: 'c-a1', username: 'c-a1', password: pass })
        if (typeof r !== 'string') await r.endAsync(true)
        return typeof r === 'string'
      },
      10_000,
      'c-a1 refused',
    )
    // B was not affected.
    await b.publishAsync('loa/v1/device/c-b/telemetry', 'still-b', { qos: 1 })
    await waitFor(() => seen.includes('loa/v1/device/c-b/telemetry still-b'), 10_000, 'B still heard')
    await b.endAsync(true)
  })
})
