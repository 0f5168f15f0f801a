import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CHANNEL_MESSAGES } from '@loa/shared'
import { makeTone, waitFor } from '@loa/testkit'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentHandle, startAgent } from './harness/agent.js'
import type { ClusterView, DeviceEvent } from './harness/api-types.js'

import { type ControlPlaneHandle, startControlPlane } from './harness/control-plane.js'
import { type MediaProxy, startMediaProxy } from './harness/media-proxy.js'
import { seedProvince } from './harness/province.js'
import { secondsFromNow } from './harness/schedule.js'

describe('bad input gets a clear error and loses nothing', { timeout: 180_000 }, () => {
  let dir: string
  let cp: ControlPlaneHandle
  let proxy: MediaProxy
  let agent: AgentHandle
  let rogue: mqtt.MqttClient

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-e2e-bad-'))
    cp = await startControlPlane(dir)
    await seedProvince(cp)
    proxy = await startMediaProxy(cp.httpUrl)
    agent = await startAgent(dir, 'c-ab-1', { mqttUrl: cp.mqttUrl, controlPlaneUrl: proxy.url })
    // A misbehaving client with the control plane's identity (devices cannot publish on these topics at all).
    rogue = await mqtt.connectAsync(cp.mqttUrl, {
      clientId: 'rogue-test-client',
      reconnectPeriod: 0,
      ...cp.mqttIdentity(),
    })
    await waitFor(
      async () => (await cp.api<ClusterView>('GET', '/api/clusters/c-ab-1')).online,
      30_000,
      'c-ab-1 online',
    )
  })

  afterAll(async () => {
    await rogue?.endAsync()
    await agent?.stop()
    await proxy?.close()
    await cp?.stop()
    if (dir && !process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  })

  async function events(kind: string): Promise<DeviceEvent[]> {
    return (await cp.api<{ events: DeviceEvent[] }>('GET', `/api/events?clusterId=c-ab-1&kind=${kind}`))
      .events
  }

  it('the agent rejects malformed, oversized and unknown-version messages, reports them, and keeps working', async () => {
    const topic = 'loa/v1/device/c-ab-1/desired'
    await rogue.publishAsync(topic, '{"this is": not json', { qos: 1 })
    // Just over what an agent takes: the broker lets the control plane's identity publish it (its own packet limit
    // has headroom above the largest message), and the agent refuses it.
    await rogue.publishAsync(topic, Buffer.alloc(CHANNEL_MESSAGES.desired.maxBytes + 1, 0x61), { qos: 1 })
    await rogue.publishAsync(
      topic,
      JSON.stringify({
        v: 99,
        type: 'desired-state',
        id: 'abcdefgh12',
        from: 'x',
        sentAt: new Date().toISOString(),
        body: {},
      }),
      { qos: 1 },
    )
    await rogue.publishAsync(
      'loa/v1/device/c-ab-1/cmd',
      JSON.stringify({ v: 1, type: 'command', body: null }),
      { qos: 1 },
    )
    const rejected = await waitFor(
      async () => {
        const e = await events('message-rejected')
        return e.length >= 4 ? e : undefined
      },
      20_000,
      'four message-rejected events at the control plane',
    )
    const text = JSON.stringify(rejected)
    for (const code of ['LOA_MSG_NOT_JSON', 'LOA_MSG_TOO_LARGE', 'LOA_MSG_VERSION', 'LOA_MSG_INVALID']) {
      expect(text).toContain(code)
    }
    expect(agent.process.child.exitCode).toBeNull()
    // Still working: a ping is answered.
    const { commandId } = await cp.api<{ commandId: string }>('POST', '/api/clusters/c-ab-1/commands', {
      kind: 'ping',
    })
    await waitFor(
      async () => {
        const { acks } = await cp.api<{ acks: { stage: string }[] }>('GET', `/api/commands/${commandId}`)
        return acks.some((a) => a.stage === 'done')
      },
      30_000,
      'the ping to be done',
    )
  })

  it('the control plane rejects malformed upward messages without crashing and counts them', async () => {
    await rogue.publishAsync('loa/v1/device/c-ab-1/play', 'garbage', { qos: 1 })
    await rogue.publishAsync('loa/v1/device/c-ab-1/telemetry', JSON.stringify({ v: 1, type: 'telemetry' }), {
      qos: 1,
    })
    await rogue.publishAsync('loa/v1/device/c-ab-1/event', Buffer.alloc(200_000, 0x7b), { qos: 1 })
    await waitFor(
      async () => {
        const m = await (await cp.apiRaw('GET', '/metrics')).text()
        const total = [...m.matchAll(/^loa_messages_rejected_total\{[^}]*\} (\d+)$/gm)].reduce(
          (s, x) => s + Number(x[1]),
          0,
        )
        return total >= 3
      },
      30_000,
      'rejections counted in /metrics',
    )
    const health = await cp.apiRaw('GET', '/healthz')
    expect(health.status).toBe(200)
  })

  it('media whose hash does not match is never marked ready, and is fetched again once the server is right', async () => {
    const wav = join(dir, 'tone.wav')
    makeTone(wav, 1, 300)
    const media = await cp.upload(wav)
    const b = await cp.api<{ id: string }>('POST', '/api/bulletins', {
      title: 'Kiểm tra',
      level: 'normal',
      mediaSha256: media.sha256,
    })
    proxy.mode = { kind: 'corrupt' }
    await cp.api('POST', '/api/schedules', {
      bulletinId: b.id,
      recurrence: { kind: 'once', at: secondsFromNow(3_600_000).toISOString() },
      targets: { clusters: ['c-ab-1'] },
    })
    await waitFor(async () => (await events('hash-mismatch')).length > 0, 20_000, 'a hash-mismatch event')
    const c = await cp.api<ClusterView>('GET', '/api/clusters/c-ab-1')
    expect(c.appliedVersion).not.toBe(c.desiredVersion)
    proxy.mode = { kind: 'pass' }
    await waitFor(
      async () => {
        const v = await cp.api<ClusterView>('GET', '/api/clusters/c-ab-1')
        return v.appliedVersion === v.desiredVersion
      },
      60_000,
      'the retry to succeed',
    )
  })

  it('the API refuses non-audio uploads, impossible schedules and hostile names with clear errors', async () => {
    const notAudio = join(dir, 'notes.wav')
    writeFileSync(notAudio, 'this is not audio at all\n'.repeat(100))
    const form = new FormData()
    form.append('file', new Blob([Buffer.from('not audio'.repeat(100))]), 'notes.wav')
    const up = await cp.fetch('/api/media', { method: 'POST', body: form })
    expect(up.status).toBe(422)
    expect(((await up.json()) as { code: string }).code).toBe('LOA_MEDIA_NOT_AUDIO')

    const wav = join(dir, 'hostile.wav')
    makeTone(wav, 1, 200)
    const hostile = await cp.upload(wav, '../../etc/passwd\u0000.wav')
    expect(hostile.sha256).toMatch(/^[a-f0-9]{64}$/)
    const { media } = await cp.api<{ media: { sha256: string; originalName: string }[] }>('GET', '/api/media')
    const stored = media.find((m) => m.sha256 === hostile.sha256)
    expect(stored?.originalName).toBeDefined()
    for (const bad of ['/', '\\', '\u0000']) expect(stored?.originalName).not.toContain(bad)

    const traversal = await cp.fetch('/media/..%2F..%2Fcontrol-plane.log')
    expect(traversal.status).toBeGreaterThanOrEqual(400)
    expect(traversal.status).toBeLessThan(500)

    const b = await cp.api<{ id: string }>('POST', '/api/bulletins', {
      title: 't',
      level: 'normal',
      mediaSha256: hostile.sha256,
    })
    for (const recurrence of [
      { kind: 'weekly', daysOfWeek: [1], times: ['25:00'], startDate: '2026-01-01' },
      { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-02-30' },
      {
        kind: 'interval',
        daysOfWeek: [1],
        everyMinutes: 5,
        from: '10:00',
        until: '09:00',
        startDate: '2026-01-01',
      },
      { kind: 'weekly', daysOfWeek: [8], times: ['06:00'], startDate: '2026-01-01' },
    ]) {
      const res = await cp.apiRaw('POST', '/api/schedules', {
        bulletinId: b.id,
        recurrence,
        targets: { units: ['xa-an-binh'] },
      })
      expect(res.status, JSON.stringify(recurrence)).toBe(400)
      expect(((await res.json()) as { message: string }).message).toMatch(/recurrence/)
    }
    const noTarget = await cp.apiRaw('POST', '/api/schedules', {
      bulletinId: b.id,
      recurrence: { kind: 'once', at: secondsFromNow(60_000).toISOString() },
      targets: {},
    })
    expect(noTarget.status).toBe(400)
  })

  it('the API refuses unauthenticated calls and oversized bodies, and keeps serving', async () => {
    for (const [method, path] of [
      ['GET', '/api/clusters'],
      ['POST', '/api/alerts'],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
    ]) {
      const res = await fetch(`${cp.httpUrl}${path}`, { method })
      expect(res.status, `${method} ${path}`).toBe(401)
      expect(((await res.json()) as { code: string }).code).toBe('LOA_UNAUTHENTICATED')
    }
    const forged = await fetch(`${cp.httpUrl}/api/clusters`, {
      headers: { authorization: `${cp.authHeaders.authorization}x` },
    })
    expect(forged.status).toBe(401)
    const big = await cp.apiRaw('POST', '/api/units', {
      id: 'big',
      name: 'x'.repeat(400 * 1024),
      kind: 'commune',
    })
    expect(big.status).toBe(413)
    expect(((await big.json()) as { code: string }).code).toBe('LOA_BODY_TOO_LARGE')
    expect((await cp.apiRaw('GET', '/api/clusters')).status).toBe(200)
    const log = readFileSync(join(dir, 'control-plane.log'), 'utf8')
    expect(log).toContain('bootstrap API token ensured')
    expect(log).not.toContain(cp.token)
  })
})
