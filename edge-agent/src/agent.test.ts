import { join } from 'node:path'
import { type DeviceUpChannel, decodeMessage, encodeMessage, serializeMessage, topicTree } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addressedTo, desired, signed } from '../test-kit/messages.js'
import { startBroker } from '../test-kit/servers.js'
import { silentLog, testAgentConfig } from '../test-kit/test-helpers.js'
import { Agent } from './agent.js'

const DEVICE = 'pi-d'
const tree = topicTree('loa')

describe('agent over a real in-process broker', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let agent: Agent
  let cp: MqttClient
  const ups: { topic: string; msg: { id: string; body: Record<string, unknown> } }[] = []
  const upsOf = (ch: string) => ups.filter((u) => u.topic.endsWith(`/${ch}`)).map((u) => u.msg.body)

  beforeAll(async () => {
    broker = await startBroker()
    cp = await mqtt.connectAsync(broker.url, { clientId: 'cp-agent-test' })
    cp.on('message', (topic, payload) => {
      // The test's own down-channel messages echo back here: keep only what the agent sent.
      if (/\/(desired|cmd|receipt)$/.test(topic)) return
      ups.push({ topic, msg: JSON.parse(payload.toString()) })
    })
    await cp.subscribeAsync(`${tree.base}/device/${DEVICE}/+`, { qos: 1 })
    const config = testAgentConfig(DEVICE, broker.url)
    agent = new Agent(config, silentLog, { flushIntervalMs: 200 })
    await agent.start()
    await waitFor(() => upsOf('presence').some((p) => p.online === true), 10_000, 'presence')
  })
  afterAll(async () => {
    await agent.stop()
    await cp.endAsync()
    await broker.close()
  })

  it('rejects malformed, oversized, wrong-version, wrong-type and other-device messages without crashing', async () => {
    const desiredTopic = tree.device(DEVICE, 'desired')
    const good = signed('desired', desired(1, []))
    await cp.publishAsync(desiredTopic, 'not json', { qos: 1 })
    await cp.publishAsync(desiredTopic, Buffer.alloc(5 * 1024 * 1024, 32), { qos: 1 })
    await cp.publishAsync(desiredTopic, JSON.stringify({ ...good, v: 9 }), { qos: 1 })
    await cp.publishAsync(desiredTopic, JSON.stringify({ ...good, type: 'command' }), { qos: 1 })
    await cp.publishAsync(desiredTopic, JSON.stringify({ ...good, body: { ...good.body, version: 'x' } }), {
      qos: 1,
    })
    await cp.publishAsync(
      desiredTopic,
      JSON.stringify(signed('desired', { ...good.body, deviceId: 'pi-other' })),
      { qos: 1 },
    )
    await cp.publishAsync(tree.device(DEVICE, 'cmd'), '{"v":1', { qos: 1 })
    const rejected = await waitFor(
      () => (upsOf('event').filter((e) => e.kind === 'message-rejected').length >= 7 ? upsOf('event') : null),
      15_000,
      'seven message-rejected events',
    )
    const codes = rejected
      .filter((e) => e.kind === 'message-rejected')
      .map((e) => (e.data as { code: string }).code)
    expect(codes).toEqual([
      'LOA_MSG_NOT_JSON',
      'LOA_MSG_TOO_LARGE',
      'LOA_MSG_VERSION',
      'LOA_MSG_TYPE',
      'LOA_MSG_INVALID',
      'LOA_DESIRED_WRONG_DEVICE',
      'LOA_MSG_NOT_JSON',
    ])
    expect(agent.store.received()).toBeNull()
    // Still alive: a good one is taken.
    await cp.publishAsync(desiredTopic, serializeMessage('desired', good), { qos: 1 })
    await waitFor(() => upsOf('reported').some((r) => r.desiredVersion === 1), 10_000, 'applied v1')
  })

  it('commands: ping acks received then done; a duplicate is rejected; a late one expires; unit topics work', async () => {
    const cmd = (
      id: string,
      kind: 'ping' | 'resync',
      deadlineMs: number,
      topic = tree.device(DEVICE, 'cmd'),
    ) =>
      serializeMessage(
        'cmd',
        signed(
          'cmd',
          addressedTo(topic, {
            commandId: id,
            kind,
            deadline: new Date(Date.now() + deadlineMs).toISOString(),
          }),
        ),
      )
    const acks = (id: string) =>
      upsOf('ack')
        .filter((a) => a.commandId === id)
        .map((a) => a.stage)
    await cp.publishAsync(tree.device(DEVICE, 'cmd'), cmd('cmd-ping-0001', 'ping', 60_000), { qos: 1 })
    await waitFor(() => acks('cmd-ping-0001').length >= 2, 10_000, 'ping acks')
    expect(acks('cmd-ping-0001')).toEqual(['received', 'done'])
    await cp.publishAsync(tree.device(DEVICE, 'cmd'), cmd('cmd-ping-0001', 'ping', 60_000), { qos: 1 })
    await waitFor(() => acks('cmd-ping-0001').length >= 3, 10_000, 'duplicate ack')
    expect(acks('cmd-ping-0001')[2]).toBe('rejected')
    await cp.publishAsync(tree.device(DEVICE, 'cmd'), cmd('cmd-late-0001', 'ping', -1000), { qos: 1 })
    await waitFor(() => acks('cmd-late-0001').length >= 1, 10_000, 'expired ack')
    expect(acks('cmd-late-0001')).toEqual(['expired'])
    // A desired state naming units subscribes to their command topics.
    await cp.publishAsync(
      tree.device(DEVICE, 'desired'),
      serializeMessage(
        'desired',
        signed('desired', { ...desired(2, []), units: ['province-1', 'commune-7'] }),
      ),
      { qos: 1 },
    )
    await waitFor(() => upsOf('reported').some((r) => r.desiredVersion === 2), 10_000, 'applied v2')
    await new Promise((r) => setTimeout(r, 300))
    const unitTopic = tree.unitCommands('commune-7')
    await cp.publishAsync(unitTopic, cmd('cmd-resync-01', 'resync', 60_000, unitTopic), { qos: 1 })
    await waitFor(() => acks('cmd-resync-01').includes('done'), 10_000, 'resync done')
    expect(acks('cmd-resync-01')).toEqual(['received', 'done'])
    // A live-stop for a live the agent never saw is done (and remembered, so a late live-start never plays).
    await cp.publishAsync(
      tree.device(DEVICE, 'cmd'),
      serializeMessage(
        'cmd',
        signed(
          'cmd',
          addressedTo(tree.device(DEVICE, 'cmd'), {
            commandId: 'cmd-live-0001',
            kind: 'live-stop',
            deadline: new Date(Date.now() + 60_000).toISOString(),
            liveId: 'live-1',
          }),
        ),
      ),
      { qos: 1 },
    )
    await waitFor(() => acks('cmd-live-0001').includes('done'), 10_000, 'live-stop done')
    expect(acks('cmd-live-0001')).toEqual(['received', 'done'])
  })

  it('everything the agent sends passes the shared codec (the control plane decodes strictly)', async () => {
    await waitFor(() => upsOf('telemetry').length > 0, 10_000, 'telemetry')
    const channels = new Set<string>()
    for (const u of ups) {
      const channel = u.topic.split('/').pop() as DeviceUpChannel
      channels.add(channel)
      expect(
        () => decodeMessage(channel, JSON.stringify(u.msg)),
        `${channel}: ${JSON.stringify(u.msg)}`,
      ).not.toThrow()
    }
    expect([...channels].sort()).toEqual(['ack', 'event', 'presence', 'reported', 'telemetry'])
    expect(upsOf('telemetry')[0]).toMatchObject({ agentVersion: '0.1.0', relayOn: false, nowPlaying: null })
  })

  it('keeps telemetry and events in the outbox until receipted', async () => {
    const pending = agent.outbox.pendingCount()
    expect(pending).toBeGreaterThan(0)
    const ids = ups.filter((u) => !u.topic.endsWith('/presence')).map((u) => u.msg.id)
    await cp.publishAsync(
      tree.device(DEVICE, 'receipt'),
      serializeMessage('receipt', encodeMessage('receipt', 'cp', { ids: ids.slice(0, 1000) })),
      { qos: 1 },
    )
    await waitFor(() => agent.outbox.pendingCount() < pending, 10_000, 'outbox to shrink')
    expect(join(agent.config.dataDir, 'agent.db')).toBeTruthy()
  })
})
