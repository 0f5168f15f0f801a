import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTone, waitFor } from '@loa/testkit'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentHandle, startAgent } from './harness/agent.js'
import type { ClusterView, DeviceEvent } from './harness/api-types.js'

import { type ControlPlaneHandle, startControlPlane } from './harness/control-plane.js'
import { seedProvince } from './harness/province.js'

interface AlertView {
  counts: Record<'targeted' | 'playing' | 'cancelled', number>
  untargeted: { clusterId: string }[]
}

// The attack of issue 10 §1 against real processes: a signed emergency command of commune An Bình, captured and
// cancelled since, published again on commune Hòa Phú's unit topic with the control plane's own broker identity
// (someone who got publish rights); and a test command for one box replayed on another box's topic.
describe('a captured command replayed on another topic', { timeout: 180_000 }, () => {
  let dir: string
  let cp: ControlPlaneHandle
  const agents = new Map<string, AgentHandle>()
  let wiretap: mqtt.MqttClient
  const heard = new Map<string, Buffer>()
  let bulletinId: string

  const ampSwitchLog = (id: string) =>
    agents.get(id)?.query<{ on: number }>('SELECT "on" FROM relay_log') ?? []
  const rejections = async (id: string) =>
    (await cp.api<{ events: DeviceEvent[] }>('GET', `/api/events?clusterId=${id}&kind=message-rejected`))
      .events
  const envelopeId = (payload: Buffer) => (JSON.parse(payload.toString()) as { id: string }).id
  const rejectionOf = (id: string, payload: Buffer) =>
    waitFor(
      async () => (await rejections(id)).find((e) => e.data?.messageId === envelopeId(payload)),
      30_000,
      `${id} to report the replay rejected`,
    )

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-e2e-recipients-'))
    cp = await startControlPlane(dir)
    await seedProvince(cp)
    for (const id of ['c-ab-1', 'c-hp-1']) {
      agents.set(id, await startAgent(dir, id, { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl }))
    }
    await waitFor(
      async () => {
        const { clusters } = await cp.api<{ clusters: ClusterView[] }>('GET', '/api/clusters')
        return clusters.filter((c) => c.online && c.appliedVersion === c.desiredVersion).length === 2
      },
      30_000,
      'both clusters online with their state applied',
    )
    wiretap = await mqtt.connectAsync(cp.mqttUrl, {
      clientId: 'wiretap-test-client',
      reconnectPeriod: 0,
      ...cp.mqttIdentity(),
    })
    wiretap.on('message', (topic, payload) => heard.set(topic, Buffer.from(payload)))
    await wiretap.subscribeAsync(['loa/v1/unit/+/cmd', 'loa/v1/device/+/cmd'], { qos: 1 })
    const wav = join(dir, 'siren.wav')
    makeTone(wav, 2, 960)
    const media = await cp.upload(wav, 'canh-bao.wav')
    bulletinId = (
      await cp.api<{ id: string }>('POST', '/api/bulletins', {
        title: 'Cảnh báo lũ',
        level: 'emergency',
        mediaSha256: media.sha256,
      })
    ).id
  })

  afterAll(async () => {
    await wiretap?.endAsync()
    await Promise.all([...agents.values()].map((a) => a.stop()))
    await cp?.stop()
    if (dir && !process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  })

  it("a cancelled alert of An Bình published on Hòa Phú's topic does not sound there and is reported", async () => {
    const raised = await cp.api<{ id: string }>('POST', '/api/alerts', {
      title: 'Cảnh báo lũ khẩn cấp',
      bulletinId,
      targets: { units: ['xa-an-binh'] },
      expiresInS: 600,
    })
    const view = () => cp.api<AlertView>('GET', `/api/alerts/${raised.id}`)
    await waitFor(async () => (await view()).counts.playing >= 1, 30_000, 'c-ab-1 to play it')
    const stolen = await waitFor(
      () => heard.get('loa/v1/unit/xa-an-binh/cmd'),
      30_000,
      'the alert on the wire',
    )
    await cp.api('POST', `/api/alerts/${raised.id}/cancel`)
    await waitFor(async () => (await view()).counts.cancelled >= 1, 20_000, 'c-ab-1 to cancel it')

    await wiretap.publishAsync('loa/v1/unit/xa-hoa-phu/cmd', stolen, { qos: 1 })
    const rejected = await rejectionOf('c-hp-1', stolen)
    expect(rejected.data?.code).toBe('LOA_CMD_NOT_FOR_ME')
    expect(rejected.data?.topic).toBe('loa/v1/unit/xa-hoa-phu/cmd')
    expect(ampSwitchLog('c-hp-1')).toEqual([])
    expect(ampSwitchLog('c-ab-1').length).toBeGreaterThan(0)
    expect((await view()).untargeted).toEqual([])
  })

  it("a test command for c-ab-1 published on c-hp-1's command topic is refused by c-hp-1", async () => {
    const sent = await cp.api<{ commandId: string }>('POST', '/api/clusters/c-ab-1/commands', {
      kind: 'test',
      test: { seconds: 1 },
    })
    const stolen = await waitFor(
      () => {
        const p = heard.get('loa/v1/device/c-ab-1/cmd')
        return p?.includes(sent.commandId) ? p : undefined
      },
      30_000,
      'the test command on the wire',
    )
    await wiretap.publishAsync('loa/v1/device/c-hp-1/cmd', stolen, { qos: 1 })
    expect((await rejectionOf('c-hp-1', stolen)).data?.code).toBe('LOA_CMD_NOT_FOR_ME')
    const cmd = await cp.api<{ acks: { clusterId: string; stage: string }[]; untargeted: unknown[] }>(
      'GET',
      `/api/commands/${sent.commandId}`,
    )
    expect(cmd.acks.every((a) => a.clusterId === 'c-ab-1')).toBe(true)
    expect(cmd.untargeted).toEqual([])
    expect(ampSwitchLog('c-hp-1')).toEqual([])
  })
})
