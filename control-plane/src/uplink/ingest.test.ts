import { randomUUID } from 'node:crypto'
import {
  type BodyFor,
  type DeviceUpChannel,
  decodeMessage,
  encodeMessage,
  serializeMessage,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  deviceClient,
  planeClient,
  seedTree,
  startTestPlane,
  type TestPlane,
  telemetryFixture,
} from '../../test-kit/test-helpers.js'

let t: TestPlane
let device: MqttClient
const receipts: string[][] = []
const commands: BodyFor<'cmd'>[] = []
const sha = 'b'.repeat(64)

const playBody: BodyFor<'play'> = {
  scheduleId: 's-1',
  title: 'Tin sáng',
  sha256: sha,
  level: 'normal',
  priority: 50,
  fallback: false,
  occurrence: '2026-11-27T23:00:00.000Z',
  status: 'played',
  relayOnAt: '2026-11-27T23:00:00.000Z',
  startedAt: '2026-11-27T23:00:01.000Z',
  endedAt: '2026-11-27T23:01:01.000Z',
  relayOffAt: '2026-11-27T23:01:02.000Z',
  durationMs: 60_000,
}
const telemetryBody = (at: string) =>
  telemetryFixture(at, { scheduleId: 's-1', title: 'Tin sáng', sha256: sha, startedAt: at, fallback: false })

async function send<C extends DeviceUpChannel>(
  channel: C,
  body: BodyFor<C>,
  opts: { id?: string; from?: string; client?: MqttClient } = {},
) {
  const from = opts.from ?? 'c-a'
  const msg = encodeMessage(channel, from, body, { id: opts.id })
  await (opts.client ?? device).publishAsync(`loa/v1/device/c-a/${channel}`, serializeMessage(channel, msg), {
    qos: 1,
  })
  return msg.id
}
const receiptedIds = () => new Set(receipts.flat())
const metric = async (re: RegExp, plane: TestPlane = t) =>
  Number(re.exec((await plane.api<string>('GET', '/metrics')).body)?.[1] ?? Number.NaN)

beforeAll(async () => {
  t = await startTestPlane({ heartbeatTimeoutS: 1 })
  await seedTree(t)
  device = await deviceClient(t, 'c-a')
  device.on('message', (topic, payload) => {
    if (topic.endsWith('/receipt')) receipts.push(decodeMessage('receipt', payload).body.ids)
    if (topic.endsWith('/cmd')) commands.push(decodeMessage('cmd', payload).body)
  })
  await device.subscribeAsync(['loa/v1/device/c-a/receipt', 'loa/v1/device/c-a/cmd'], { qos: 1 })
})
afterAll(async () => {
  await device?.endAsync()
  await t?.close()
})

describe('ingest over MQTT', () => {
  it('stores a play once when it is sent twice, and receipts every copy', async () => {
    const id = randomUUID()
    await send('play', playBody, { id })
    await send('play', playBody, { id })
    const eventId = await send('event', {
      at: '2026-11-27T23:02:00.000Z',
      kind: 'relay-fault',
      severity: 'error',
      message: 'relay did not switch',
    })
    await waitFor(() => receiptedIds().has(id) && receiptedIds().has(eventId), 10_000, 'receipts')
    const plays = await t.api<{ plays: Record<string, unknown>[] }>('GET', '/api/plays?clusterId=c-a')
    expect(plays.body.plays).toHaveLength(1)
    expect(plays.body.plays[0]).toMatchObject({ ...playBody, id, clusterId: 'c-a', reason: null })
    expect(await metric(/^loa_plays_total (\d+)$/m)).toBe(1)

    // Re-sent after the receipt (the agent restarted before deleting its outbox): receipted again, stored once.
    const before = receipts.length
    await send('play', playBody, { id })
    await waitFor(() => receipts.slice(before).some((r) => r.includes(id)), 10_000, 'second receipt')
    expect((await t.api<{ plays: unknown[] }>('GET', '/api/plays?clusterId=c-a')).body.plays).toHaveLength(1)
    expect((await t.api<{ plays: unknown[] }>('GET', '/api/plays?unitId=prov')).body.plays).toHaveLength(1)
    expect((await t.api<{ plays: unknown[] }>('GET', '/api/plays?unitId=xa-b')).body.plays).toHaveLength(0)
    expect((await t.api<{ plays: unknown[] }>('GET', '/api/plays?scheduleId=other')).body.plays).toHaveLength(
      0,
    )

    const events = await t.api<{ events: Record<string, unknown>[] }>(
      'GET',
      '/api/events?clusterId=c-a&kind=relay-fault',
    )
    expect(events.body.events).toEqual([
      expect.objectContaining({ id: eventId, severity: 'error', source: 'device' }),
    ])
  })

  it('stores a play once by what it is when it comes again under a new id (lost WAL), keeping the best report', async () => {
    const occurrence = '2026-11-28T01:00:00.000Z'
    const named = { ...playBody, scheduleId: 's-named', occurrence, attempt: 0 }
    const first = await send('play', named)
    // The box lost its WAL: the same occurrence is played and reported again, under new envelope ids; once
    // more as 'skipped' (missed) after a restart. Each is receipted, none is counted twice.
    const again = await send('play', named)
    const missed = await send('play', {
      ...named,
      status: 'skipped',
      reason: 'missed',
      relayOnAt: null,
      startedAt: null,
      endedAt: null,
      relayOffAt: null,
      durationMs: 0,
    })
    // A second attempt of the same item (it was preempted and restarted) is another play.
    const second = await send('play', { ...named, attempt: 1, status: 'interrupted', durationMs: 5_000 })
    await waitFor(
      () => [first, again, missed, second].every((id) => receiptedIds().has(id)),
      10_000,
      'receipts',
    )
    const list = async () =>
      (await t.api<{ plays: Record<string, unknown>[] }>('GET', '/api/plays?scheduleId=s-named')).body.plays
    const plays = await list()
    expect(plays).toHaveLength(2)
    expect(plays.find((p) => p.attempt === 0)).toMatchObject({
      id: first,
      status: 'played',
      durationMs: 60_000,
    })
    expect(plays.find((p) => p.attempt === 1)).toMatchObject({ id: second, status: 'interrupted' })

    // A better report of the same play (the restarted attempt aired in full after all) replaces a worse one.
    const better = await send('play', { ...named, attempt: 1, status: 'played', durationMs: 60_000 })
    await waitFor(() => receiptedIds().has(better), 10_000, 'receipt of the better report')
    expect((await list()).find((p) => p.attempt === 1)).toMatchObject({ id: second, status: 'played' })
    // Without a name (fallback fill, older agents) only the envelope id de-duplicates.
    const fill = { ...playBody, scheduleId: null, occurrence: null, fallback: true }
    const f1 = await send('play', fill)
    const f2 = await send('play', fill)
    await waitFor(() => receiptedIds().has(f1) && receiptedIds().has(f2), 10_000, 'fallback receipts')
    const all = (await t.api<{ plays: { id: string }[] }>('GET', '/api/plays?clusterId=c-a')).body.plays
    expect(all.filter((p) => p.id === f1 || p.id === f2)).toHaveLength(2)
  })

  it('keeps latest telemetry and its history, and reported versions', async () => {
    const at1 = new Date(Date.now() - 1000).toISOString()
    const at2 = new Date().toISOString()
    const t2 = await send('telemetry', telemetryBody(at2))
    const t1 = await send('telemetry', telemetryBody(at1)) // late, older heartbeat must not win
    const rep = await send('reported', {
      desiredVersion: 1,
      receivedVersion: 1,
      appliedAt: at2,
      agentVersion: '0.1.0',
      media: [{ sha256: sha, size: 10, state: 'ready' }],
      cacheBytes: 10,
      cacheBudgetBytes: 1000,
      diskFreeBytes: 20e9,
    })
    await waitFor(() => [t1, t2, rep].every((id) => receiptedIds().has(id)), 10_000, 'receipts')
    const c = await t.api<Record<string, unknown>>('GET', '/api/clusters/c-a')
    expect(c.body).toMatchObject({
      appliedVersion: 1,
      receivedVersion: 1,
      agentVersion: '0.1.0',
      relayOn: true,
    })
    expect((c.body.nowPlaying as { startedAt: string }).startedAt).toBe(at2)
    const tel = await t.api<{ telemetry: { id: string }[] }>('GET', '/api/clusters/c-a/telemetry?limit=10')
    expect(tel.body.telemetry.map((x) => x.id)).toEqual([t2, t1])
  })

  it('a heartbeat from a box whose clock was 2 h ahead does not stay "latest" once its clock is corrected', async () => {
    const ahead = new Date(Date.now() + 2 * 3600_000).toISOString()
    const wrong = await send('telemetry', { ...telemetryBody(ahead), relayOn: true })
    await waitFor(() => receiptedIds().has(wrong), 10_000, 'receipt')
    const right = await send('telemetry', { ...telemetryBody(new Date().toISOString()), relayOn: false })
    await waitFor(() => receiptedIds().has(right), 10_000, 'receipt')
    const c = await t.api<{ relayOn: boolean }>('GET', '/api/clusters/c-a')
    expect(c.body.relayOn).toBe(false)
  })

  it('sends commands and records their acknowledgements', async () => {
    const r = await t.api<{ commandId: string }>('POST', '/api/clusters/c-a/commands', {
      kind: 'ping',
      deadlineS: 30,
    })
    expect(r.status).toBe(202)
    const cmd = await waitFor(() => commands.find((c) => c.commandId === r.body.commandId), 10_000, 'command')
    expect(cmd.kind).toBe('ping')
    const ackId = await send('ack', { commandId: cmd.commandId, stage: 'done', at: new Date().toISOString() })
    await waitFor(() => receiptedIds().has(ackId), 10_000, 'ack receipt')
    const acks = await t.api<{ acks: Record<string, unknown>[] }>('GET', `/api/commands/${r.body.commandId}`)
    expect(acks.body.acks).toEqual([
      expect.objectContaining({ clusterId: 'c-a', stage: 'done', reason: null }),
    ])
    expect((await t.api('GET', '/api/commands/nope-nope-nope')).status).toBe(404)
    expect((await t.api('POST', '/api/clusters/c-a/commands', { kind: 'self-destruct' })).status).toBe(400)
  })

  it('survives malformed, oversized, wrong-version, wrong-type and spoofed payloads, and counts them', async () => {
    const topic = 'loa/v1/device/c-a/event'
    const good = encodeMessage('event', 'c-a', {
      at: new Date().toISOString(),
      kind: 'x',
      severity: 'info',
      message: 'm',
    })
    await device.publishAsync(topic, Buffer.from('{not json'), { qos: 1 })
    await device.publishAsync(topic, JSON.stringify({ ...good, v: 9 }), { qos: 1 })
    await device.publishAsync(topic, JSON.stringify({ ...good, type: 'play' }), { qos: 1 })
    await device.publishAsync(topic, JSON.stringify({ ...good, from: 'c-b' }), { qos: 1 })
    // The embedded broker lets no device publish as another; an external broker with laxer ACLs might.
    const lax = await planeClient(t, 'lax-broker-test')
    // The embedded broker cuts a device's oversized publish at its header (broker-limits.test.ts); an external
    // broker with a laxer packet size might deliver one, and ingest refuses it too.
    await lax.publishAsync(topic, Buffer.alloc(40 * 1024, 0x20), { qos: 1 })
    await lax.publishAsync(
      'loa/v1/device/ghost-device/event',
      serializeMessage('event', { ...good, from: 'ghost-device' }),
      { qos: 1 },
    )
    await lax.endAsync()
    // A valid message after them proves the pipeline is still alive.
    const okId = await send('event', good.body)
    await waitFor(() => receiptedIds().has(okId), 10_000, 'receipt after bad messages')
    for (const code of [
      'LOA_MSG_NOT_JSON',
      'LOA_MSG_TOO_LARGE',
      'LOA_MSG_VERSION',
      'LOA_MSG_TYPE',
      'LOA_MSG_SENDER',
    ]) {
      expect(
        await metric(
          new RegExp(`^loa_messages_rejected_total\\{code="${code}",channel="event"\\} (\\d+)$`, 'm'),
        ),
      ).toBe(1)
    }
    expect(await metric(/^loa_mqtt_unknown_device_total\{channel="event"\} (\d+)$/m)).toBe(1)
    const ev = await t.api<{ events: { source: string }[] }>(
      'GET',
      '/api/events?clusterId=c-a&kind=message-rejected',
    )
    expect(ev.body.events).toHaveLength(5)
    expect(ev.body.events.every((e) => e.source === 'control-plane')).toBe(true)
    expect((await t.api('GET', '/healthz')).status).toBe(200)
  })

  it('receipts a refused message from its own device, keeping its content in an event, so it is not re-sent forever', async () => {
    // A status no agent sends cannot be mended (a bad number could be: see the next test).
    const poison = encodeMessage('play', 'c-a', { ...playBody, status: 'exploded' as 'played' })
    await device.publishAsync('loa/v1/device/c-a/play', JSON.stringify(poison), { qos: 1 })
    await waitFor(() => receiptedIds().has(poison.id), 10_000, 'receipt of the refused message')
    const ev = await t.api<{ events: { data: { messageId?: string; excerpt?: string } }[] }>(
      'GET',
      '/api/events?clusterId=c-a&kind=message-rejected',
    )
    const kept = ev.body.events.find((e) => e.data.messageId === poison.id)
    expect(kept?.data.excerpt).toContain('"status":"exploded"')
    const plays = await t.api<{ plays: { id: string }[] }>('GET', '/api/plays?clusterId=c-a')
    expect(plays.body.plays.some((p) => p.id === poison.id)).toBe(false)
  })

  it('keeps a play with a negative duration and a heartbeat with a negative uptime (a clock stepped back), mended and flagged', async () => {
    // An agent whose clock stepped back mid-play (or one older than its monotonic clock) sends these.
    const play = encodeMessage('play', 'c-a', { ...playBody, scheduleId: 's-neg', durationMs: -7_199_000 })
    await device.publishAsync('loa/v1/device/c-a/play', JSON.stringify(play), { qos: 1 })
    const at = new Date().toISOString()
    const sample = { ...telemetryBody(at), uptimeS: -7190.5, health: { cpuTempC: 999 } }
    const tel = encodeMessage('telemetry', 'c-a', sample)
    await device.publishAsync('loa/v1/device/c-a/telemetry', JSON.stringify(tel), { qos: 1 })
    await waitFor(() => receiptedIds().has(play.id) && receiptedIds().has(tel.id), 10_000, 'receipts')
    const plays = await t.api<{ plays: Record<string, unknown>[] }>('GET', '/api/plays?scheduleId=s-neg')
    expect(plays.body.plays).toEqual([
      expect.objectContaining({ id: play.id, status: 'played', durationMs: 0 }),
    ])
    const series = await t.api<{ telemetry: { id: string; body: Record<string, unknown> }[] }>(
      'GET',
      '/api/clusters/c-a/telemetry?limit=50',
    )
    const stored = series.body.telemetry.find((x) => x.id === tel.id)
    expect(stored?.body).toMatchObject({ uptimeS: 0, relayOn: true, cpuLoad1: sample.cpuLoad1 })
    expect(stored?.body.health).toBeUndefined()
    const ev = await t.api<{
      events: { severity: string; data: { messageId: string; repairs: unknown[] } }[]
    }>('GET', '/api/events?clusterId=c-a&kind=message-repaired')
    const flag = (id: string) => ev.body.events.find((e) => e.data.messageId === id)
    expect(flag(play.id)).toMatchObject({
      severity: 'warning',
      data: { repairs: [{ field: 'durationMs', was: -7_199_000, now: 0 }] },
    })
    expect(flag(tel.id)?.data.repairs).toEqual([
      { field: 'uptimeS', was: -7190.5, now: 0 },
      { field: 'health', was: { cpuTempC: 999 }, now: null },
    ])
    const rejected = await t.api<{ events: { data: { messageId?: string } }[] }>(
      'GET',
      '/api/events?clusterId=c-a&kind=message-rejected',
    )
    expect(
      rejected.body.events.some((e) => e.data.messageId === play.id || e.data.messageId === tel.id),
    ).toBe(false)
  })

  it('marks a device offline when nothing is heard within the heartbeat timeout', async () => {
    const other = await deviceClient(t, 'c-b')
    const msg = encodeMessage('telemetry', 'c-b', telemetryBody(new Date().toISOString()))
    await other.publishAsync('loa/v1/device/c-b/telemetry', serializeMessage('telemetry', msg), { qos: 1 })
    await waitFor(
      async () => (await t.api<{ online: boolean }>('GET', '/api/clusters/c-b')).body.online,
      10_000,
      'online',
    )
    await waitFor(
      async () => !(await t.api<{ online: boolean }>('GET', '/api/clusters/c-b')).body.online,
      10_000,
      'offline',
    )
    const ev = await waitFor(
      async () =>
        (await t.api<{ events: unknown[] }>('GET', '/api/events?clusterId=c-b&kind=heartbeat-timeout')).body
          .events[0],
      10_000,
      'heartbeat-timeout event',
    )
    expect(ev).toMatchObject({ source: 'control-plane', severity: 'warning' })
    await other.endAsync()
  })

  it('marks a device offline on its last will', async () => {
    // Own plane with a long heartbeat timeout, so only the will can take the device offline.
    const p = await startTestPlane({ heartbeatTimeoutS: 3600 })
    try {
      await seedTree(p)
      const will = encodeMessage('presence', 'c-a1', { online: false })
      const c = await deviceClient(p, 'c-a1', {
        will: {
          topic: 'loa/v1/device/c-a1/presence',
          payload: serializeMessage('presence', will),
          qos: 1,
          retain: true,
        },
      })
      const hello = encodeMessage('presence', 'c-a1', { online: true })
      await c.publishAsync('loa/v1/device/c-a1/presence', serializeMessage('presence', hello), {
        qos: 1,
        retain: true,
      })
      const online = async () => (await p.api<{ online: boolean }>('GET', '/api/clusters/c-a1')).body.online
      await waitFor(online, 10_000, 'online')
      expect(await metric(/^loa_devices_online (\d+)$/m, p)).toBe(1)
      c.stream.destroy() // abrupt loss: the broker sends the will
      await waitFor(async () => !(await online()), 10_000, 'offline')
      expect(await metric(/^loa_devices_online (\d+)$/m, p)).toBe(0)
      c.end(true)
    } finally {
      await p.close()
    }
  })
})
