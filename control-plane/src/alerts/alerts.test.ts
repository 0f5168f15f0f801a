import fs from 'node:fs'
import type { DesiredStateBody } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type CmdSpy,
  readSse,
  type SimDevice,
  type StageCounts,
  settle,
  simDevice,
  spyCommands,
} from '../../test-kit/alerts.js'
import {
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'

let t: TestPlane
let spy: CmdSpy
let sha: string
const devices: SimDevice[] = []

interface AlertReply {
  id: string
  revision: number
  ackId: string
  targetCount: number
  priority: number
  state: string
  code?: string
  message?: string
}
type Counts = StageCounts

const raise = (body: Record<string, unknown>) => t.api<AlertReply>('POST', '/api/alerts', body)
const desired = async (id: string) =>
  (await t.api<DesiredStateBody>('GET', `/api/clusters/${id}/desired-state`)).body
const alertIdsIn = async (id: string) => ((await desired(id)).alerts ?? []).map((a) => a.alertId)
const cmdsFor = (alertId: string) =>
  spy.seen.filter(
    (s) =>
      (s.body.kind === 'alert' && s.body.alert.alertId === alertId) ||
      (s.body.kind === 'alert-cancel' && s.body.alertId === alertId),
  )

beforeAll(async () => {
  t = await startTestPlane({ alertStreamLingerMs: 300 })
  await seedTree(t)
  // Positions: c-a in Huế, c-a1 15 km away, c-b in Đà Nẵng (~80 km).
  await t.api('PATCH', '/api/clusters/c-a', { lat: 16.4637, lon: 107.5909 })
  await t.api('PATCH', '/api/clusters/c-a1', { lat: 16.55, lon: 107.7 })
  await t.api('PATCH', '/api/clusters/c-b', { lat: 16.0544, lon: 108.2022 })
  sha = (await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'siren.wav', { seconds: 1 })))).body
    .sha256 as string
  expect(
    (
      await t.api('POST', '/api/bulletins', {
        id: 'b-flood',
        title: 'Lũ',
        level: 'emergency',
        mediaSha256: sha,
      })
    ).status,
  ).toBe(201)
  spy = await spyCommands(t)
  for (const id of ['c-a1', 'c-b']) devices.push(await simDevice(t, id))
})
afterAll(async () => {
  for (const d of devices) await d.close()
  await spy?.close()
  await t?.close()
})

describe('alert validation', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no title', { title: undefined }, /^title/],
    ['unknown bulletin', { bulletinId: 'ghost' }, /^bulletinId/],
    ['no content', { bulletinId: undefined }, /^bulletinId/],
    ['emergency below its band', { priority: 150 }, /^priority/],
    ['priority level in the emergency band', { level: 'priority', priority: 210 }, /^priority/],
    ['expiry already past', { expiresAt: '2020-01-01T00:00:00Z' }, /^expiresAt: already past/],
    ['repeat out of range', { repeat: 21 }, /repeat/],
    ['no targets', { targets: {} }, /^targets/],
    ['unknown unit', { targets: { units: ['ghost'] } }, /^targets\.units\[0\]/],
    ['no matching cluster', { targets: { tags: ['nowhere'] } }, /^targets: no cluster/],
    [
      'bad polygon',
      {
        targets: {
          area: {
            polygon: [
              [1, 2],
              [1, 2],
            ],
          },
        },
      },
      /polygon/,
    ],
  ]
  for (const [name, patch, field] of cases) {
    it(`refuses ${name}, naming the field`, async () => {
      const r = await raise({ title: 'Lũ', bulletinId: 'b-flood', targets: { units: ['xa-a'] }, ...patch })
      expect(r.status).toBe(400)
      expect(r.body.code).toBe('LOA_ALERT_INVALID')
      expect(r.body.message).toMatch(field)
    })
  }
})

describe('fan-out', () => {
  it('an alert to a unit is ONE publish on the unit topic, reaching exactly the clusters below it', async () => {
    const r = await raise({
      title: 'Lũ quét',
      bulletinId: 'b-flood',
      targets: { units: ['xa-a'] },
      repeat: 2,
    })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ revision: 1, targetCount: 2, priority: 200, state: 'active' })
    expect(r.body.id).toMatch(/^[A-Za-z0-9-]+$/)
    const [inside, outside] = devices as [SimDevice, SimDevice]
    await waitFor(
      () => inside.commands.some((c) => c.kind === 'alert' && c.alert.alertId === r.body.id),
      10_000,
      'unit command',
    )
    await settle()
    expect(cmdsFor(r.body.id).map((s) => s.topic)).toEqual(['loa/v1/unit/xa-a/cmd'])
    expect(outside.commands.filter((c) => c.kind === 'alert' && c.alert.alertId === r.body.id)).toEqual([])
    const cmd = inside.commands.find((c) => c.kind === 'alert' && c.alert.alertId === r.body.id)
    expect(cmd).toMatchObject({
      commandId: r.body.ackId,
      kind: 'alert',
      alert: { ackId: r.body.ackId, repeat: 2, audible: true, items: [{ sha256: sha }] },
    })
    // Bookkeeping: the desired states of the targeted clusters carry it, others do not.
    expect(await alertIdsIn('c-a')).toContain(r.body.id)
    expect(await alertIdsIn('c-a1')).toContain(r.body.id)
    expect(await alertIdsIn('c-b')).not.toContain(r.body.id)
    await t.api('POST', `/api/alerts/${r.body.id}/cancel`)
  })

  it('clusters, tags and areas go to each device topic', async () => {
    const byTag = await raise({ title: 'Sóng lớn', bulletinId: 'b-flood', targets: { tags: ['coast'] } })
    const byCircle = await raise({
      title: 'Sạt lở',
      bulletinId: 'b-flood',
      targets: { area: { circle: { lat: 16.46, lon: 107.59, radiusKm: 5 } } },
    })
    const byPolygon = await raise({
      title: 'Ngập',
      bulletinId: 'b-flood',
      targets: {
        area: {
          polygon: [
            [16.4, 107.5],
            [16.6, 107.5],
            [16.6, 107.8],
            [16.4, 107.8],
          ],
        },
      },
    })
    const byCluster = await raise({
      title: 'Cháy',
      bulletinId: 'b-flood',
      targets: { clusters: ['c-a1', 'c-b'] },
    })
    for (const r of [byTag, byCircle, byPolygon, byCluster]) expect(r.status).toBe(201)
    await waitFor(() => cmdsFor(byCluster.body.id).length >= 2, 10_000, 'cluster commands')
    await settle()
    const topics = (id: string) =>
      cmdsFor(id)
        .map((s) => s.topic)
        .sort()
    expect(topics(byTag.body.id)).toEqual(['loa/v1/device/c-b/cmd'])
    expect(topics(byCircle.body.id)).toEqual(['loa/v1/device/c-a/cmd'])
    expect(topics(byPolygon.body.id)).toEqual(['loa/v1/device/c-a/cmd', 'loa/v1/device/c-a1/cmd'])
    expect(topics(byCluster.body.id)).toEqual(['loa/v1/device/c-a1/cmd', 'loa/v1/device/c-b/cmd'])
    for (const r of [byTag, byCircle, byPolygon, byCluster])
      await t.api('POST', `/api/alerts/${r.body.id}/cancel`)
  })
})

describe('acknowledgements', () => {
  it('add up in the alert view and arrive over the SSE stream', async () => {
    const r = await raise({ title: 'Bão số 9', bulletinId: 'b-flood', targets: { units: ['xa-a'] } })
    const { id, ackId } = r.body
    const stream = await readSse(`${t.cp.httpUrl}/api/alerts/${id}/stream`, t.adminHeaders)
    await waitFor(() => stream.events.length >= 1, 10_000, 'first SSE event')
    expect(stream.events[0]).toMatchObject({ event: 'counts', data: { counts: { targeted: 2, pending: 2 } } })
    const inside = devices[0] as SimDevice
    // c-a is a device too: ack from a second simulated client.
    const ca = await simDevice(t, 'c-a')
    try {
      await inside.ack(ackId, 'received')
      await ca.ack(ackId, 'received')
      await inside.ack(ackId, 'playing')
      const view = () =>
        t.api<{ counts: Counts; clusters: { clusterId: string; stage: string }[] }>(
          'GET',
          `/api/alerts/${id}`,
        )
      await waitFor(async () => (await view()).body.counts.playing === 1, 10_000, 'one playing')
      expect((await view()).body.counts).toMatchObject({ targeted: 2, received: 1, playing: 1, pending: 0 })
      // An older stage arriving late never moves a cluster back.
      await inside.ack(ackId, 'done')
      await ca.ack(ackId, 'failed', 'amplifier fault')
      await inside.ack(ackId, 'received')
      await stream.done
      const last = stream.events.filter((e) => e.event === 'counts').at(-1)
      expect(last?.data.counts).toMatchObject({ done: 1, failed: 1, pending: 0 })
      expect(stream.events.at(-1)?.event).toBe('end')
      const v = (await view()).body
      expect(v.clusters).toEqual([
        expect.objectContaining({ clusterId: 'c-a', stage: 'failed', reason: 'amplifier fault' }),
        expect.objectContaining({ clusterId: 'c-a1', stage: 'done' }),
      ])
      const list = await t.api<{ alerts: { id: string; counts: Counts }[] }>('GET', '/api/alerts')
      expect(list.body.alerts.find((a) => a.id === id)?.counts.done).toBe(1)
      await t.api('POST', `/api/alerts/${id}/cancel`)
    } finally {
      await ca.close()
    }
  })
})

describe('lifecycle', () => {
  it('a late-joining device finds the alert in its desired state; cancel withdraws it', async () => {
    const r = await raise({ title: 'Lũ lớn', bulletinId: 'b-flood', targets: { units: ['prov'] } })
    expect(r.body.targetCount).toBe(3)
    await waitFor(() => cmdsFor(r.body.id).length >= 1, 10_000, 'alert publish')
    await settle()
    expect(cmdsFor(r.body.id).map((s) => s.topic)).toEqual(['loa/v1/unit/prov/cmd'])
    // A device that was away connects now: the (re-)published desired state carries the alert.
    const late = await simDevice(t, 'c-a')
    try {
      await late.online()
      await waitFor(
        () => late.desired.some((d) => d.alerts?.some((a) => a.alertId === r.body.id)),
        10_000,
        'late joiner desired state',
      )
      const c = await t.api<{ state: string }>('POST', `/api/alerts/${r.body.id}/cancel`)
      expect(c.body.state).toBe('cancelled')
      await waitFor(
        () => late.commands.some((x) => x.kind === 'alert-cancel' && x.alertId === r.body.id),
        10_000,
        'cancel command',
      )
      await settle()
      expect(cmdsFor(r.body.id).map((s) => `${s.body.kind} ${s.topic}`)).toEqual([
        'alert loa/v1/unit/prov/cmd',
        'alert-cancel loa/v1/unit/prov/cmd',
      ])
      expect(await alertIdsIn('c-a')).not.toContain(r.body.id)
      await waitFor(
        () =>
          late.desired.at(-1)?.alerts?.some((a) => a.alertId === r.body.id) === false ||
          late.desired.at(-1)?.alerts === undefined,
        10_000,
        'desired state without the alert',
      )
    } finally {
      await late.close()
    }
  })

  it('an expired alert disappears from desired states and is never sent again', async () => {
    const r = await raise({
      title: 'Ngắn',
      bulletinId: 'b-flood',
      targets: { clusters: ['c-b'] },
      expiresInS: 1,
    })
    expect(await alertIdsIn('c-b')).toContain(r.body.id)
    await waitFor(
      async () =>
        (await t.api<{ alert: { state: string } }>('GET', `/api/alerts/${r.body.id}`)).body.alert.state ===
        'expired',
      10_000,
      'expiry',
    )
    await waitFor(
      async () => !(await alertIdsIn('c-b')).includes(r.body.id),
      10_000,
      'removed from the desired state',
    )
    const upd = await t.api<AlertReply>('PUT', `/api/alerts/${r.body.id}`, { title: 'x' })
    expect(upd.status).toBe(409)
    expect(cmdsFor(r.body.id)).toHaveLength(1)
  })

  it('an update bumps the revision and sends it again', async () => {
    const r = await raise({ title: 'Lũ', bulletinId: 'b-flood', targets: { units: ['xa-b'] } })
    const u = await t.api<AlertReply>('PUT', `/api/alerts/${r.body.id}`, {
      title: 'Lũ dâng cao',
      expiresInS: 1800,
    })
    expect(u.status).toBe(200)
    expect(u.body.revision).toBe(2)
    expect(u.body.ackId).not.toBe(r.body.ackId)
    await waitFor(() => cmdsFor(r.body.id).length >= 2, 10_000, 'second publish')
    const last = cmdsFor(r.body.id).at(-1)
    expect(last?.topic).toBe('loa/v1/unit/xa-b/cmd')
    expect(last?.body).toMatchObject({ kind: 'alert', alert: { revision: 2, title: 'Lũ dâng cao' } })
    expect((await desired('c-b')).alerts?.find((a) => a.alertId === r.body.id)?.revision).toBe(2)
    await t.api('POST', `/api/alerts/${r.body.id}/cancel`)
  })
})

describe('many alerts at once', () => {
  it('from different levels are all delivered and listed in band, then time, order', async () => {
    const bodies = [
      { title: 'Ưu tiên', level: 'priority' },
      { title: 'Khẩn 200' },
      { title: 'Khẩn 255', priority: 255 },
      { title: 'Khẩn 230', priority: 230 },
      { title: 'Khẩn 200 bis' },
    ]
    const raised = await Promise.all(
      bodies.map((b) => raise({ ...b, bulletinId: 'b-flood', targets: { units: ['xa-b'] } })),
    )
    for (const r of raised) expect(r.status).toBe(201)
    const dev = devices[1] as SimDevice
    const ids = raised.map((r) => r.body.id)
    await waitFor(
      () => ids.every((id) => dev.commands.some((c) => c.kind === 'alert' && c.alert.alertId === id)),
      10_000,
      'every alert delivered',
    )
    const list = await t.api<{ alerts: { id: string; priority: number; createdAt: string }[] }>(
      'GET',
      '/api/alerts?state=active',
    )
    const mine = list.body.alerts.filter((a) => ids.includes(a.id))
    expect(mine.map((a) => a.priority)).toEqual([255, 230, 200, 200, 100])
    const two = mine.filter((a) => a.priority === 200)
    expect((two[0] as { createdAt: string }).createdAt <= (two[1] as { createdAt: string }).createdAt).toBe(
      true,
    )
    expect(
      ((await desired('c-b')).alerts ?? []).filter((a) => ids.includes(a.alertId)).map((a) => a.priority),
    ).toEqual([255, 230, 200, 200, 100])
    for (const id of ids) await t.api('POST', `/api/alerts/${id}/cancel`)
  })
})

describe('metrics', () => {
  it('count alert publishes and active alerts', async () => {
    const m = await t.api<string>('GET', '/metrics')
    expect(m.body).toMatch(/loa_alert_publishes_total\{kind="alert",result="ok"\} [1-9]/)
    expect(m.body).toMatch(/loa_alert_publishes_total\{kind="alert-cancel",result="ok"\} [1-9]/)
    expect(m.body).toMatch(/loa_alerts_active \d+/)
  })
})
