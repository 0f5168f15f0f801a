import { Bands, serializeMessage, topicTree } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addressedTo, signed } from '../../test-kit/messages.js'
import { startBroker } from '../../test-kit/servers.js'
import { silentLog, testAgentConfig } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'

const DEVICE = 'pi-zone-test'
const tree = topicTree('loa')

// The province's `test` command, end to end through a real broker, the scheduler's arbiter and ffmpeg.
describe('test command', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let agent: Agent
  let cp: MqttClient
  const acks: { commandId: string; stage: string; reason?: string }[] = []
  const stages = (id: string) => acks.filter((a) => a.commandId === id).map((a) => a.stage)

  beforeAll(async () => {
    broker = await startBroker()
    cp = await mqtt.connectAsync(broker.url, { clientId: 'cp-zone-test' })
    cp.on('message', (topic, payload) => {
      if (topic.endsWith('/ack')) acks.push(JSON.parse(payload.toString()).body)
    })
    await cp.subscribeAsync(tree.device(DEVICE, 'ack'), { qos: 1 })
    const zones = [
      { id: 'main', label: 'Loa chính', relay: { driver: 'simulated' as const } },
      { id: 'cho', label: 'Chợ', relay: { driver: 'simulated' as const } },
    ]
    agent = new Agent(testAgentConfig(DEVICE, broker.url, { zones }), silentLog, { flushIntervalMs: 200 })
    await agent.start()
    await waitFor(() => agent.link.connected, 10_000, 'mqtt')
  })
  afterAll(async () => {
    await agent?.stop()
    await cp?.endAsync()
    await broker?.close()
  })

  const send = (
    commandId: string,
    test: { zone?: string; seconds: number; frequencyHz?: number },
    deadlineMs = 60_000,
  ) =>
    cp.publishAsync(
      tree.device(DEVICE, 'cmd'),
      serializeMessage(
        'cmd',
        signed(
          'cmd',
          addressedTo(tree.device(DEVICE, 'cmd'), {
            commandId,
            kind: 'test',
            deadline: new Date(Date.now() + deadlineMs).toISOString(),
            test,
          }),
        ),
      ),
      { qos: 1 },
    )

  it('plays a tone on the one zone asked, at the test band, and acks received → playing → done', async () => {
    const seen = new Set<string>()
    const sampler = setInterval(() => {
      const on = agent.box
        .zones()
        .filter((z) => z.relayOn)
        .map((z) => z.id)
      seen.add(on.join(',') || '-')
    }, 20)
    await send('cmd-test-cho-01', { zone: 'cho', seconds: 1, frequencyHz: 880 })
    await waitFor(() => stages('cmd-test-cho-01').includes('done'), 20_000, 'done')
    clearInterval(sampler)
    expect(stages('cmd-test-cho-01')).toEqual(['received', 'playing', 'done'])
    // During the tone only the market zone was on; every zone is off once the post-roll is over.
    expect(seen.has('cho')).toBe(true)
    await waitFor(() => agent.box.zones().every((z) => !z.relayOn), 5000, 'all zones off after the post-roll')
    const play = await waitFor(
      () =>
        agent.db.prepare("SELECT status, priority, title FROM plays WHERE title LIKE 'Thử loa Chợ%'").get() as
          | { status: string; priority: number }
          | undefined,
      10_000,
      'play report',
    )
    expect(play).toMatchObject({ status: 'played', priority: 120 })
    const action = agent.localPlays.recent().find((a) => a.commandId === 'cmd-test-cho-01')
    expect(action).toMatchObject({ kind: 'tone', zone: 'cho', by: 'province', status: 'done' })
  })

  it('tests every zone in turn when no zone is named', async () => {
    await send('cmd-test-all-01', { seconds: 1 })
    await waitFor(() => stages('cmd-test-all-01').includes('done'), 30_000, 'done')
    expect(stages('cmd-test-all-01')).toEqual(['received', 'playing', 'done'])
    const tones = agent.localPlays.recent().filter((a) => a.commandId === 'cmd-test-all-01')
    expect(tones.map((a) => a.zone).sort()).toEqual(['cho', 'main'])
    const [first, second] = [...tones].sort(
      (a, b) => Date.parse(a.startedAt ?? '') - Date.parse(b.startedAt ?? ''),
    )
    // One after the other, not together.
    expect(Date.parse(second?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(first?.endedAt ?? '') - 50)
  })

  it('gives up a test that cannot start before its deadline, and acks it expired', async () => {
    // The amplifier held on by the technician at the same band: the test waits its turn (an equal band never interrupts).
    const hold = agent.localPlays.request({
      kind: 'relay',
      zone: 'main',
      by: 'technician',
      title: 'hold',
      priority: Bands.test,
      seconds: 20,
    })
    await waitFor(() => hold.action.status === 'playing', 10_000, 'hold playing')
    await send('cmd-test-late-01', { zone: 'main', seconds: 1 }, 1500)
    await waitFor(() => stages('cmd-test-late-01').includes('expired'), 15_000, 'expired')
    expect(stages('cmd-test-late-01')).toEqual(['received', 'expired'])
    expect(agent.localPlays.cancel(hold.action.id, 'test over')).toBe(true)
    await waitFor(() => !agent.ampSwitch.isOn(), 10_000, 'amplifier off')
    const tone = agent.localPlays.recent().find((a) => a.commandId === 'cmd-test-late-01')
    expect(tone?.startedAt).toBeNull()
  })

  it('fails a test of a zone the box does not have', async () => {
    await send('cmd-test-bad-01', { zone: 'nowhere', seconds: 1 })
    await waitFor(() => stages('cmd-test-bad-01').includes('failed'), 10_000, 'failed')
    expect(stages('cmd-test-bad-01')).toEqual(['received', 'failed'])
    expect(acks.find((a) => a.commandId === 'cmd-test-bad-01' && a.stage === 'failed')?.reason).toMatch(
      /zone/,
    )
  })
})
