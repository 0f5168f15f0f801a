import { type CommandBody, topicTree } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import type { MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { signed } from '../../test-kit/messages.js'
import { receiptingClient, startBroker, type Upstream } from '../../test-kit/servers.js'
import { silentLog, testAgentConfig } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'
import { technicianPorts } from '../agent-technician.js'
import { parseBroker } from './brokers.js'

const tree = topicTree('loa')
type Broker = Awaited<ReturnType<typeof startBroker>>
const portOf = (url: string) => parseBroker(url).port
const display = (url: string) => parseBroker(url).display

const ping = (deviceId: string, commandId: string): CommandBody => ({
  commandId,
  kind: 'ping',
  deadline: new Date(Date.now() + 60_000).toISOString(),
  recipients: { devices: [deviceId], units: [] },
})

describe('an agent with two brokers moves to the other when one fails', () => {
  const closers: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const c of closers.reverse()) await c().catch(() => {})
    closers.length = 0
  })

  /** Two real brokers, each with a receipting control plane, and an agent configured with both. */
  async function rig(deviceId: string) {
    const brokers: Broker[] = [await startBroker(), await startBroker()]
    const cps: { cp: MqttClient; ups: Upstream[] }[] = []
    for (const [i, b] of brokers.entries()) cps.push(await receiptingClient(b.url, `cp-${deviceId}-${i}`))
    closers.push(async () => {
      for (const { cp } of cps) await cp.endAsync(true)
      for (const b of brokers) await b.close()
    })
    const urls = brokers.map((b) => b.url)
    const agent = new Agent(
      testAgentConfig(deviceId, urls[0] as string, { mqtt: { url: urls[0] as string, urls } }),
      silentLog,
      {
        flushIntervalMs: 200,
        // Unreceipted entries go again after 0.5 s: a duplicate would show within the test.
        outbox: { resendAfterMs: 500 },
      },
    )
    closers.push(() => agent.stop())
    await agent.start()
    await waitFor(() => agent.link.connected, 10_000, 'first connection')
    const at = urls.findIndex((u) => display(u) === agent.link.broker)
    expect(at).toBeGreaterThanOrEqual(0)
    return { agent, brokers, cps, urls, at, other: 1 - at }
  }

  const acked = (ups: Upstream[], deviceId: string, commandId: string) =>
    ups.some((u) => u.topic === tree.device(deviceId, 'ack') && u.body.commandId === commandId)
  const sendPing = (cp: MqttClient, deviceId: string, commandId: string) =>
    cp.publishAsync(tree.device(deviceId, 'cmd'), JSON.stringify(signed('cmd', ping(deviceId, commandId))), {
      qos: 1,
    })

  it('its broker closes: on the other within 5 s, resubscribed (a command there runs), status names it', async () => {
    const dev = 'pi-fo1'
    const { agent, brokers, cps, urls, at, other } = await rig(dev)
    await new Promise((r) => setTimeout(r, 200))
    await sendPing((cps[at] as { cp: MqttClient }).cp, dev, 'cmd-fo1-before')
    await waitFor(
      () => acked((cps[at] as { ups: Upstream[] }).ups, dev, 'cmd-fo1-before'),
      10_000,
      'ack on the first',
    )

    const closedAt = Date.now()
    await (brokers[at] as Broker).close()
    await waitFor(() => agent.link.broker === display(urls[other] as string), 10_000, 'on the other broker')
    expect(Date.now() - closedAt).toBeLessThan(5_000)
    // Presence online on the new broker, then a command sent there reaches the agent: it subscribed again.
    const { ups } = cps[other] as { cp: MqttClient; ups: Upstream[] }
    await waitFor(
      () => ups.some((u) => u.topic === tree.device(dev, 'presence') && u.body.online === true),
      10_000,
      'presence on the other broker',
    )
    await new Promise((r) => setTimeout(r, 200))
    await sendPing((cps[other] as { cp: MqttClient }).cp, dev, 'cmd-fo1-after')
    await waitFor(() => acked(ups, dev, 'cmd-fo1-after'), 10_000, 'ack on the other broker')
    // The technician page's status says which broker (no credentials).
    expect(technicianPorts(agent, 'test').status.province().broker).toBe(display(urls[other] as string))
  })

  it('both down: an event queued offline arrives exactly once at the broker that comes back', async () => {
    const dev = 'pi-fo2'
    const { agent, brokers, cps, urls, at, other } = await rig(dev)
    // The other broker goes first (the agent does not notice), then its own: the agent is offline.
    await (cps[other] as { cp: MqttClient }).cp.endAsync(true)
    await (brokers[other] as Broker).close()
    await (brokers[at] as Broker).close()
    await waitFor(() => !agent.link.connected, 10_000, 'offline')
    expect(agent.link.broker).toBeNull()
    agent.outbox.event('failover-probe', 'info', 'queued while no broker answered')
    await new Promise((r) => setTimeout(r, 1_000))
    expect(agent.link.connected).toBe(false)

    // The other broker comes back (a fresh one on its port: nothing retained, no session).
    const back = await startBroker(portOf(urls[other] as string))
    const cp = await receiptingClient(back.url, `cp-${dev}-back`)
    closers.push(async () => {
      await cp.cp.endAsync(true)
      await back.close()
    })
    await waitFor(() => agent.link.broker === display(urls[other] as string), 20_000, 'on the broker back')
    const probes = () =>
      cp.ups.filter((u) => u.topic === tree.device(dev, 'event') && u.body.kind === 'failover-probe')
    await waitFor(() => probes().length > 0, 10_000, 'queued event at the broker back')
    await waitFor(() => agent.outbox.pendingCount() === 0, 10_000, 'outbox drained by receipts')
    // Four resend periods later: still once.
    await new Promise((r) => setTimeout(r, 2_000))
    expect(probes()).toHaveLength(1)
    // Subscribed there too: a command sent on it runs.
    await sendPing(cp.cp, dev, 'cmd-fo2-back')
    await waitFor(() => acked(cp.ups, dev, 'cmd-fo2-back'), 10_000, 'ack on the broker back')
  })
})
