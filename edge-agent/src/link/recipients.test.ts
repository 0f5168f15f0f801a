import {
  type AlertSpec,
  type CommandBody,
  type DesiredStateBody,
  type MediaRef,
  type Recipients,
  topicTree,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addressedTo, signed, testAlert } from '../../test-kit/messages.js'
import {
  type MediaServer,
  receiptingClient,
  startBroker,
  startMediaServer,
  type Upstream,
} from '../../test-kit/servers.js'
import { servedTone, silentLog, testAgentConfig } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'

const tree = topicTree('loa')
let n = 0
const uid = (p: string) => `${p}-${++n}-${Date.now().toString(36)}`
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString()

// Two communes of one province: pi-ra1 and pi-ra2 in xa-a, pi-rb in xa-b. A signed command names its recipients; a
// box refuses anything not addressed to itself or one of its units, whatever topic it came on.
describe('a signed command says whom it is for (real aedes broker, real agents, real ffmpeg)', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let server: MediaServer
  let cp: MqttClient
  let ups: Upstream[] = []
  /** An attacker with publish rights on the broker, replaying what it captured. */
  let attacker: MqttClient
  const captured = new Map<string, Buffer>()
  const agents: Agent[] = []
  let ra1: Agent
  let ra2: Agent
  let rb: Agent
  let siren: MediaRef

  const acks = (device: string, commandId: string) =>
    ups
      .filter((u) => u.topic === tree.device(device, 'ack') && u.body.commandId === commandId)
      .map((u) => u.body.stage as string)
  const rejections = (device: string) =>
    ups
      .filter((u) => u.topic === tree.device(device, 'event') && u.body.kind === 'message-rejected')
      .map((u) => u.body.data as { code: string; topic: string; messageId?: string; details: string[] })
  const rejectionOf = (device: string, messageId: string) =>
    waitFor(
      () => rejections(device).find((r) => r.messageId === messageId),
      10_000,
      `${device} rejecting ${messageId}`,
    )
  const ampSwitchLog = (a: Agent) => a.db.prepare('SELECT "on" FROM relay_log').all() as { on: number }[]
  const envelopeId = (payload: Buffer) => (JSON.parse(payload.toString()) as { id: string }).id

  function state(deviceId: string, units: string[], over: Partial<DesiredStateBody> = {}): DesiredStateBody {
    return {
      deviceId,
      version: 1,
      generatedAt: new Date().toISOString(),
      timezone: 'Asia/Ho_Chi_Minh',
      units,
      volume: 80,
      media: [siren],
      schedule: [],
      fallback: null,
      ...over,
    }
  }

  async function startAgent(deviceId: string, units: string[] | null, dataDir?: string): Promise<Agent> {
    const config = testAgentConfig(deviceId, broker.url, {
      controlPlaneUrl: server.url,
      ...(dataDir ? { dataDir } : {}),
    })
    const a = new Agent(config, silentLog, { flushIntervalMs: 100 })
    agents.push(a)
    await a.start()
    await waitFor(() => a.link.connected, 10_000, `${deviceId} connected`)
    if (units) {
      await cp.publishAsync(
        tree.device(deviceId, 'desired'),
        JSON.stringify(signed('desired', state(deviceId, units))),
        { qos: 1 },
      )
      await waitFor(() => a.cache.isReady(siren.sha256), 15_000, `${deviceId} siren cached`)
    }
    // Unit subscriptions follow the desired state: give the broker a moment to register them.
    await new Promise((r) => setTimeout(r, 300))
    return a
  }

  const alert = (over: Partial<AlertSpec> = {}) => testAlert([siren], { title: 'Cảnh báo lũ', ...over })

  /** Publishes as the control plane does: the command addressed to the topic's own device or unit, signed. */
  async function publish(topic: string, body: Parameters<typeof addressedTo>[1]): Promise<Buffer> {
    const payload = Buffer.from(JSON.stringify(signed('cmd', addressedTo(topic, body))))
    await cp.publishAsync(topic, payload, { qos: 1 })
    return payload
  }

  /** A signed ping with these recipients, published on `device`'s own `cmd` topic; returns its envelope id. */
  async function pingOn(device: string, recipients: Recipients): Promise<string> {
    const body = { commandId: uid('ping'), kind: 'ping' as const, deadline: inMs(60_000), recipients }
    const msg = signed('cmd', body)
    await cp.publishAsync(tree.device(device, 'cmd'), JSON.stringify(msg), { qos: 1 })
    return msg.id
  }

  /** What the attacker heard on `topic` (the exact signed bytes), once it arrived. */
  const capture = (topic: string) => waitFor(() => captured.get(topic), 10_000, `capture on ${topic}`)

  beforeAll(async () => {
    broker = await startBroker()
    server = await startMediaServer()
    siren = servedTone(server, 1)
    ;({ cp, ups } = await receiptingClient(broker.url, 'cp-recipients-test'))
    attacker = await mqtt.connectAsync(broker.url, { clientId: 'attacker-recipients-test' })
    attacker.on('message', (topic, payload) => captured.set(topic, Buffer.from(payload)))
    await attacker.subscribeAsync([`${tree.base}/unit/+/cmd`, `${tree.base}/device/+/cmd`], { qos: 1 })
    ra1 = await startAgent('pi-ra1', ['tinh', 'xa-a'])
    ra2 = await startAgent('pi-ra2', ['tinh', 'xa-a'])
    rb = await startAgent('pi-rb', ['tinh', 'xa-b'])
  }, 90_000)

  afterAll(async () => {
    for (const a of agents) await a.stop().catch(() => {})
    await attacker?.endAsync()
    await cp?.endAsync()
    await broker?.close()
    await server?.close()
  })

  it("an alert for commune A, captured and cancelled, replayed on commune B's topic never sounds there", async () => {
    const a = alert()
    const topicA = tree.unitCommands('xa-a')
    await publish(topicA, { commandId: a.ackId, kind: 'alert', deadline: a.expiresAt, alert: a })
    // The command for the box's own unit works: both clusters of commune A play it.
    await waitFor(
      () => acks('pi-ra1', a.ackId).includes('done') && acks('pi-ra2', a.ackId).includes('done'),
      20_000,
      'commune A played the alert',
    )
    expect(ampSwitchLog(ra1).length).toBeGreaterThan(0)
    const stolen = await capture(topicA)
    // The province cancels it.
    await publish(topicA, {
      commandId: uid('cancel'),
      kind: 'alert-cancel',
      deadline: inMs(60_000),
      alertId: a.alertId,
    })
    // Replayed on commune B's unit topic (and on B's own device topic): refused, reported, never played.
    await attacker.publishAsync(tree.unitCommands('xa-b'), stolen, { qos: 1 })
    const r = await rejectionOf('pi-rb', envelopeId(stolen))
    expect(r.code).toBe('LOA_CMD_NOT_FOR_ME')
    expect(r.topic).toBe(tree.unitCommands('xa-b'))
    expect(r.details.join(' ')).toMatch(/xa-a/)
    await attacker.publishAsync(tree.device('pi-rb', 'cmd'), stolen, { qos: 1 })
    await waitFor(() => rejections('pi-rb').filter((x) => x.messageId === envelopeId(stolen)).length >= 2)
    expect(
      rejections('pi-rb')
        .filter((x) => x.messageId === envelopeId(stolen))
        .map((x) => x.code),
    ).toEqual(['LOA_CMD_NOT_FOR_ME', 'LOA_CMD_NOT_FOR_ME'])
    expect(acks('pi-rb', a.ackId)).toEqual([])
    expect(ampSwitchLog(rb)).toEqual([])
    expect(rb.db.prepare('SELECT count(*) AS n FROM plays').get()).toEqual({ n: 0 })
    expect(
      ups.some((u) => u.topic === tree.device('pi-rb', 'event') && u.body.kind === 'alert-received'),
    ).toBe(false)
  }, 60_000)

  it("a test command for device X, published on device Y's cmd topic, is refused by Y; X still runs it", async () => {
    const commandId = uid('test')
    const topicX = tree.device('pi-ra1', 'cmd')
    const switchesBefore = ampSwitchLog(rb).length
    const neighbourBefore = ampSwitchLog(ra2).length
    const payload = await publish(topicX, {
      commandId: `${commandId}-x`,
      kind: 'test',
      deadline: inMs(60_000),
      test: { seconds: 1 },
    })
    await waitFor(() => acks('pi-ra1', `${commandId}-x`).includes('done'), 20_000, 'X ran its test')
    const stolen = await capture(topicX)
    expect(stolen.equals(payload)).toBe(true)
    await attacker.publishAsync(tree.device('pi-rb', 'cmd'), stolen, { qos: 1 })
    expect((await rejectionOf('pi-rb', envelopeId(stolen))).code).toBe('LOA_CMD_NOT_FOR_ME')
    // Published on commune A's unit topic, X's neighbour in A refuses it too (it names device X only).
    await attacker.publishAsync(tree.unitCommands('xa-a'), stolen, { qos: 1 })
    expect((await rejectionOf('pi-ra2', envelopeId(stolen))).code).toBe('LOA_CMD_NOT_FOR_ME')
    // Re-addressed to Y by editing the recipients: the signature no longer matches.
    const edited = JSON.parse(stolen.toString()) as { id: string; body: { recipients: unknown } }
    edited.body.recipients = { devices: ['pi-rb'], units: [] }
    await attacker.publishAsync(tree.device('pi-rb', 'cmd'), JSON.stringify(edited), { qos: 1 })
    const second = await waitFor(
      () => rejections('pi-rb').filter((r) => r.messageId === edited.id)[1],
      10_000,
      'the edited copy refused',
    )
    expect(second.code).toBe('LOA_SIG_INVALID')
    expect(acks('pi-rb', `${commandId}-x`)).toEqual([])
    expect(acks('pi-ra2', `${commandId}-x`)).toEqual([])
    expect(ampSwitchLog(rb)).toHaveLength(switchesBefore)
    expect(ampSwitchLog(ra2)).toHaveLength(neighbourBefore)
  }, 60_000)

  it('every kind is checked: a unit command for another commune on the box’s own device topic is refused', async () => {
    for (const body of [
      { commandId: uid('ping'), kind: 'ping' as const, deadline: inMs(60_000) },
      { commandId: uid('resync'), kind: 'resync' as const, deadline: inMs(60_000) },
      { commandId: uid('stop'), kind: 'live-stop' as const, deadline: inMs(60_000), liveId: 'l-1' },
      { commandId: uid('cancel'), kind: 'alert-cancel' as const, deadline: inMs(60_000), alertId: 'a-1' },
    ]) {
      const msg = signed('cmd', { ...body, recipients: { devices: ['pi-ra1'], units: ['xa-a'] } })
      await cp.publishAsync(tree.device('pi-rb', 'cmd'), JSON.stringify(msg), { qos: 1 })
      expect((await rejectionOf('pi-rb', msg.id)).code).toBe('LOA_CMD_NOT_FOR_ME')
      expect(acks('pi-rb', body.commandId)).toEqual([])
    }
    // A command signed before commands named their recipients (captured then, replayed now) is refused.
    const unaddressed = { commandId: uid('old'), kind: 'ping', deadline: inMs(60_000) }
    const old = signed('cmd', unaddressed as unknown as CommandBody)
    await cp.publishAsync(tree.device('pi-rb', 'cmd'), JSON.stringify(old), { qos: 1 })
    const refused = await waitFor(
      () => rejections('pi-rb').find((r) => r.code === 'LOA_MSG_INVALID'),
      10_000,
      'the unaddressed command refused',
    )
    expect(refused.details.join(' ')).toMatch(/\/body\/recipients/)
    expect(acks('pi-rb', unaddressed.commandId)).toEqual([])
    // Addressed to the province (a unit on every box's path): carried out.
    const ping = { commandId: uid('ping'), kind: 'ping' as const, deadline: inMs(60_000) }
    await publish(tree.unitCommands('tinh'), ping)
    await waitFor(() => acks('pi-rb', ping.commandId).includes('done'), 10_000, 'province ping done')
  }, 60_000)

  it('before any desired state a box knows no units: only commands naming its device id run', async () => {
    const fresh = await startAgent('pi-rn', null)
    const unitPing = await pingOn('pi-rn', { devices: [], units: ['tinh'] })
    const r = await rejectionOf('pi-rn', unitPing)
    expect(r.code).toBe('LOA_CMD_NOT_FOR_ME')
    expect(r.details.join(' ')).toMatch(/no desired state/)
    const ping = { commandId: uid('ping'), kind: 'ping' as const, deadline: inMs(60_000) }
    await publish(tree.device('pi-rn', 'cmd'), ping)
    await waitFor(() => acks('pi-rn', ping.commandId).includes('done'), 10_000, 'device ping done')
    expect(fresh.store.received()).toBeNull()
  }, 60_000)

  it("a data directory reused under another device id does not apply the old device's desired state", async () => {
    const old = await startAgent('pi-rold', ['tinh', 'xa-a'])
    const dataDir = old.config.dataDir
    await old.stop()
    const renamed = await startAgent('pi-rnew', null, dataDir)
    expect(renamed.store.received()).toBeNull()
    // So it knows no units: a command for xa-a (where the old id was) is refused.
    const sent = await pingOn('pi-rnew', { devices: [], units: ['xa-a'] })
    expect((await rejectionOf('pi-rnew', sent)).code).toBe('LOA_CMD_NOT_FOR_ME')
  }, 60_000)
})
