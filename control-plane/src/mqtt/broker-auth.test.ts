import { encodeMessage, serializeMessage } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  deviceClient,
  devicePassword,
  planeClient,
  seedTree,
  startTestPlane,
  type TestPlane,
  telemetryFixture,
} from '../../test-kit/test-helpers.js'

/** Tries to connect; resolves with the refusal message, or the client if it got in. */
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

const telemetry = (from: string) =>
  serializeMessage('telemetry', encodeMessage('telemetry', from, telemetryFixture(new Date().toISOString())))

describe('broker access control (embedded aedes)', () => {
  let t: TestPlane
  let watcher: MqttClient
  const seen: string[] = []
  let b: MqttClient
  const bGot: string[] = []

  const refusals = async (action: string, reason: string) =>
    Number(
      new RegExp(`^loa_broker_refusals_total\\{action="${action}",reason="${reason}"\\} (\\d+)$`, 'm').exec(
        (await t.api<string>('GET', '/metrics')).body,
      )?.[1] ?? 0,
    )
  const events = async (clusterId: string) =>
    (
      await t.api<{ events: { message: string; data: { reason: string; action: string } }[] }>(
        'GET',
        `/api/events?clusterId=${clusterId}&kind=broker-refused`,
      )
    ).body.events

  beforeAll(async () => {
    t = await startTestPlane()
    await seedTree(t)
    watcher = await planeClient(t, 'test-watcher')
    watcher.on('message', (topic, payload) =>
      seen.push(payload.toString() === '{}' ? `${topic} forged` : topic),
    )
    await watcher.subscribeAsync('loa/v1/#', { qos: 1 })
    // Device c-b stays connected through every attack below: legitimate traffic must keep flowing.
    b = await deviceClient(t, 'c-b')
    b.on('message', (topic) => bGot.push(topic))
    await b.subscribeAsync(['loa/v1/device/c-b/desired', 'loa/v1/device/c-b/cmd', 'loa/v1/unit/xa-b/cmd'], {
      qos: 1,
    })
  })
  afterAll(async () => {
    await b.endAsync(true)
    await watcher.endAsync(true)
    await t.close()
  })

  it('refuses anonymous, wrong-secret, unknown and impersonating connections, and records them', async () => {
    const url = t.cp.mqttUrl
    const passA = await devicePassword(t, 'c-a')
    const passB = await devicePassword(t, 'c-b')
    expect(await attempt(url, { clientId: 'loa-agent-c-a' })).toMatch(/Not authorized/i)
    expect(await attempt(url, { clientId: 'loa-agent-c-a', username: 'c-a', password: `${passA}x` })).toMatch(
      /Bad username or password/i,
    )
    expect(await attempt(url, { clientId: 'loa-agent-ghost', username: 'ghost', password: passA })).toMatch(
      /Bad username or password/i,
    )
    // Device A claims to be B (its own secret), then takes B's client id with its own name.
    expect(await attempt(url, { clientId: 'loa-agent-c-b', username: 'c-b', password: passA })).toMatch(
      /Bad username or password/i,
    )
    expect(await attempt(url, { clientId: 'loa-agent-c-b', username: 'c-a', password: passA })).toMatch(
      /Not authorized/i,
    )
    // ... or the control plane.
    expect(await attempt(url, { clientId: 'x', username: 'loa-control-plane', password: passB })).toMatch(
      /Bad username or password/i,
    )
    expect(await refusals('connect', 'anonymous')).toBe(1)
    expect(await refusals('connect', 'bad-credentials')).toBeGreaterThanOrEqual(3)
    expect(await refusals('connect', 'unknown-device')).toBe(1)
    expect(await refusals('connect', 'client-id')).toBe(1)
    const onB = await waitFor(
      async () => ((await events('c-b')).length > 0 ? events('c-b') : null),
      10_000,
      'events',
    )
    expect(onB[0]?.data).toMatchObject({ action: 'connect', reason: 'bad-credentials' })
    // Secrets never reach events.
    expect(JSON.stringify(await events('c-b'))).not.toContain(passA)
    // B was never disturbed: it still publishes and the control plane hears it.
    await b.publishAsync('loa/v1/device/c-b/telemetry', telemetry('c-b'), { qos: 1 })
    await waitFor(
      async () => (await t.api<{ online: boolean }>('GET', '/api/clusters/c-b')).body.online,
      10_000,
      'B online',
    )
  })

  it('a device publishes only on its own upward topics: not as another device, not as the control plane', async () => {
    for (const [topic, payload] of [
      ['loa/v1/device/c-b/telemetry', telemetry('c-b')],
      ['loa/v1/device/c-a/desired', Buffer.from('{}')],
      ['loa/v1/unit/xa-b/cmd', Buffer.from('{}')],
    ] as const) {
      const a = await deviceClient(t, 'c-a', { reconnectPeriod: 0 })
      const closed = new Promise<void>((r) => a.once('close', () => r()))
      a.publish(topic, payload, { qos: 1 })
      await closed
      a.end(true)
    }
    await new Promise((r) => setTimeout(r, 300))
    expect(seen.filter((s) => s.endsWith(' forged'))).toEqual([])
    expect(bGot.filter((s) => s === 'loa/v1/unit/xa-b/cmd')).toEqual([])
    expect(await refusals('publish', 'topic')).toBe(3)
    const onA = await waitFor(
      async () =>
        (await events('c-a')).filter((e) => e.data.action === 'publish').length >= 3 ? events('c-a') : null,
      10_000,
      'publish refusals recorded',
    )
    expect(onA.some((e) => e.message.includes('loa/v1/device/c-b/telemetry'))).toBe(true)
    // Its own topics work.
    const a = await deviceClient(t, 'c-a')
    await a.publishAsync('loa/v1/device/c-a/telemetry', telemetry('c-a'), { qos: 1 })
    await waitFor(() => seen.includes('loa/v1/device/c-a/telemetry'), 10_000, 'own telemetry')
    await a.endAsync(true)
  })

  it("a device reads only its own topics and its ancestors' unit topics: no wildcards, no other unit", async () => {
    const a1 = await deviceClient(t, 'c-a1')
    // mqtt.js rejects a subscription the broker refused (SUBACK 128).
    const granted = async (topic: string) =>
      await a1.subscribeAsync(topic, { qos: 1 }).then(
        (g) => g[0]?.qos,
        () => 128,
      )
    expect(await granted('loa/v1/device/c-a1/desired')).toBe(1)
    expect(await granted('loa/v1/unit/prov/cmd')).toBe(1)
    expect(await granted('loa/v1/unit/xa-a/cmd')).toBe(1)
    expect(await granted('loa/v1/unit/thon-a1/cmd')).toBe(1)
    expect(await granted('loa/v1/device/c-b/desired')).toBe(128)
    expect(await granted('loa/v1/device/+/desired')).toBe(128)
    expect(await granted('loa/v1/#')).toBe(128)
    expect(await granted('loa/v1/unit/xa-b/cmd')).toBe(128)
    expect(await refusals('subscribe', 'topic')).toBe(4)
    // Moved to commune B: xa-a's commands stop reaching it at once, though it subscribed before the move.
    const got: string[] = []
    a1.on('message', (topic) => got.push(topic))
    expect((await t.api('PATCH', '/api/clusters/c-a1', { unitId: 'xa-b' })).status).toBe(200)
    await waitFor(
      async () =>
        (await t.api<{ units: string[] }>('GET', '/api/clusters/c-a1/desired-state')).body.units.includes(
          'xa-b',
        ),
      10_000,
      'moved',
    )
    await watcher.publishAsync('loa/v1/unit/xa-a/cmd', Buffer.from('{}'), { qos: 1 })
    await watcher.publishAsync('loa/v1/unit/prov/cmd', Buffer.from('{}'), { qos: 1 })
    await waitFor(() => got.includes('loa/v1/unit/prov/cmd'), 10_000, 'province command still arrives')
    expect(got).not.toContain('loa/v1/unit/xa-a/cmd')
    expect(await granted('loa/v1/unit/xa-b/cmd')).toBe(1)
    // (mqtt.js skips a topic it believes subscribed: unsubscribe first, then ask again.)
    await a1.unsubscribeAsync('loa/v1/unit/xa-a/cmd')
    expect(await granted('loa/v1/unit/xa-a/cmd')).toBe(128)
    await a1.endAsync(true)
  })

  it('rotation ends the old secret; revocation disconnects at once and refuses the reconnect', async () => {
    const url = t.cp.mqttUrl
    const old = await devicePassword(t, 'c-a')
    const a = await deviceClient(t, 'c-a', { reconnectPeriod: 0 })
    const closed = new Promise<void>((r) => a.once('close', () => r()))
    const rotated = await t.api<{ password: string }>('POST', '/api/clusters/c-a/credentials')
    await closed
    expect(await attempt(url, { clientId: 'loa-agent-c-a', username: 'c-a', password: old })).toMatch(
      /Bad username/,
    )
    const fresh = await attempt(url, {
      clientId: 'loa-agent-c-a',
      username: 'c-a',
      password: rotated.body.password,
    })
    expect(typeof fresh).not.toBe('string')
    const gone = new Promise<void>((r) => (fresh as MqttClient).once('close', () => r()))
    expect((await t.api('POST', '/api/clusters/c-a/revoke')).body).toMatchObject({ state: 'revoked' })
    await gone
    const again = await attempt(url, {
      clientId: 'loa-agent-c-a',
      username: 'c-a',
      password: rotated.body.password,
    })
    expect(again).toMatch(/Bad username or password/i)
    expect(await refusals('connect', 'revoked')).toBe(1)
    await waitFor(
      async () => (await events('c-a')).some((e) => e.data.reason === 'revoked'),
      10_000,
      'revoked event',
    )
    // Meanwhile B still gets its commands.
    await watcher.publishAsync('loa/v1/unit/xa-b/cmd', Buffer.from('legit'), { qos: 1 })
    await waitFor(() => bGot.includes('loa/v1/unit/xa-b/cmd'), 10_000, 'B still served')
  })
})
