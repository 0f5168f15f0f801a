import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeMessage, encodeMessage, serializeMessage } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { connectClient, deviceClient, seedTree, startTestPlane } from '../../test-kit/test-helpers.js'
import { ConfigError, loadConfigFromEnv } from '../config.js'
import { startEmbeddedBroker } from '../mqtt/broker.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cp-life-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('configuration', () => {
  it('has defaults and names the bad variable', () => {
    const c = loadConfigFromEnv({})
    expect(c).toMatchObject({
      httpPort: 8080,
      mqttPort: 1883,
      topicRoot: 'loa',
      mediaCodec: 'opus',
      mqttUrl: null,
    })
    expect(c.timezone).toBe('Asia/Ho_Chi_Minh')
    expect(loadConfigFromEnv({ LOA_MEDIA_CODEC: 'mp3', LOA_HTTP_PORT: '0' })).toMatchObject({
      mediaCodec: 'mp3',
      httpPort: 0,
    })
    for (const [name, value] of [
      ['LOA_HTTP_PORT', 'eighty'],
      ['LOA_MQTT_PORT', '70000'],
      ['LOA_MEDIA_CODEC', 'flac'],
      ['LOA_TIMEZONE', 'Mars/Olympus'],
      ['LOA_MQTT_URL', 'not a url'],
      ['LOA_HEARTBEAT_TIMEOUT_S', '-1'],
      ['LOA_TOPIC_ROOT', 'loa/#'],
    ] as const) {
      expect(() => loadConfigFromEnv({ [name]: value })).toThrow(ConfigError)
      expect(() => loadConfigFromEnv({ [name]: value })).toThrow(new RegExp(name))
    }
  })
})

describe('external broker restart', () => {
  it('re-publishes every desired state from the database when its MQTT client reconnects', async () => {
    let broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })
    const port = broker.port
    const t = await startTestPlane({ mqttUrl: broker.url, dataDir: path.join(tmp, 'ext') })
    try {
      expect(t.cp.mqttUrl).toBe(broker.url)
      await seedTree(t)
      // The in-memory broker loses every retained message on restart.
      await broker.close()
      const down = await waitFor(
        async () => {
          const r = await t.api<{ broker: string }>('GET', '/healthz')
          return r.status === 503 ? r.body : null
        },
        10_000,
        'health to report the broker down',
      )
      expect(down).toMatchObject({ status: 'degraded', db: 'ok', broker: 'disconnected' })
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port })
      const got = new Set<string>()
      const sub = await connectClient(broker.url, 'watcher')
      sub.on('message', (topic, payload) => {
        decodeMessage('desired', payload)
        got.add(topic.split('/')[3] as string)
      })
      await sub.subscribeAsync('loa/v1/device/+/desired', { qos: 1 })
      await waitFor(() => got.size === 3, 20_000, 'all three desired states again')
      expect([...got].sort()).toEqual(['c-a', 'c-a1', 'c-b'])
      await waitFor(
        async () => (await t.api<{ broker: string }>('GET', '/healthz')).body.broker === 'connected',
        10_000,
        'health',
      )
      await sub.endAsync()
    } finally {
      await t.close()
      await broker.close()
    }
  })
})

describe('restart', () => {
  it('keeps versions and metrics from the database across a restart', async () => {
    const dataDir = path.join(tmp, 'restart')
    let t = await startTestPlane({ dataDir })
    await seedTree(t)
    const before = await t.api<{ clusters: { id: string; desiredVersion: number }[] }>('GET', '/api/clusters')
    const device = await deviceClient(t, 'c-b')
    const receipts: string[] = []
    device.on('message', (_topic, payload) => receipts.push(...decodeMessage('receipt', payload).body.ids))
    await device.subscribeAsync('loa/v1/device/c-b/receipt', { qos: 1 })
    const play = encodeMessage('play', 'c-b', {
      scheduleId: null,
      title: 'fill',
      sha256: 'c'.repeat(64),
      level: 'normal',
      priority: 10,
      fallback: true,
      occurrence: null,
      status: 'played',
      relayOnAt: null,
      startedAt: null,
      endedAt: null,
      relayOffAt: null,
      durationMs: 1000,
    })
    await device.publishAsync('loa/v1/device/c-b/play', serializeMessage('play', play), { qos: 1 })
    await waitFor(() => receipts.includes(play.id), 10_000, 'receipt')
    await device.endAsync()
    await t.cp.close()

    t = await startTestPlane({ dataDir })
    try {
      const metrics = (await t.api<string>('GET', '/metrics')).body
      expect(metrics).toMatch(/^loa_devices_total 3$/m)
      expect(metrics).toMatch(/^loa_plays_total 1$/m)
      const after = await t.api<{ clusters: { id: string; desiredVersion: number }[] }>(
        'GET',
        '/api/clusters',
      )
      // Same content, same version: a restart must not make every device re-apply.
      expect(after.body.clusters.map((c) => [c.id, c.desiredVersion])).toEqual(
        before.body.clusters.map((c) => [c.id, c.desiredVersion]),
      )
    } finally {
      await t.close()
    }
  })
})

describe('process entry', () => {
  it('logs readiness with its URLs, refuses bad config by name, and exits cleanly on SIGTERM', async () => {
    const main = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'main.js')
    const bad = spawn(process.execPath, [main], { env: { ...process.env, LOA_HTTP_PORT: 'x' } })
    let badErr = ''
    bad.stderr.on('data', (d) => {
      badErr += d
    })
    const badCode = await new Promise((r) => bad.on('exit', r))
    expect(badCode).not.toBe(0)
    expect(badErr).toMatch(/LOA_HTTP_PORT/)

    const dataDir = path.join(tmp, 'proc')
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        LOA_DATA_DIR: dataDir,
        LOA_HTTP_HOST: '127.0.0.1',
        LOA_HTTP_PORT: '0',
        LOA_MQTT_HOST: '127.0.0.1',
        LOA_MQTT_PORT: '0',
        LOA_LOG_LEVEL: 'info',
      },
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    const ready = await waitFor(
      () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { msg: string; httpUrl?: string; mqttUrl?: string })
          .find((l) => l.msg === 'control plane ready'),
      20_000,
      'ready line',
    )
    expect(ready.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(ready.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/)
    const health = await fetch(`${ready.httpUrl}/healthz`)
    expect(await health.json()).toEqual({ status: 'ok', db: 'ok', broker: 'connected' })
    child.kill('SIGTERM')
    const code = await new Promise((r) => child.on('exit', r))
    expect(code).toBe(0)
    expect(fs.existsSync(path.join(dataDir, 'loa.db'))).toBe(true)
  })
})
