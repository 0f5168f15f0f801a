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
import { seedTree, startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

let t: TestPlane
let spy: CmdSpy
const devices: SimDevice[] = []

interface LiveReply {
  id: string
  revision: number
  ackId: string
  targetCount: number
  priority: number
  state: string
  startsAt: string
  endsAt: string | null
  code?: string
  message?: string
}
type Counts = StageCounts

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString()
const SRC = 'http://radio.example.vn/vov1.mp3'
const start = (body: Record<string, unknown>) =>
  t.api<LiveReply>('POST', '/api/lives', { title: 'VOV1 trực tiếp', sourceUrl: SRC, ...body })
const desired = async (id: string) =>
  (await t.api<DesiredStateBody>('GET', `/api/clusters/${id}/desired-state`)).body
const liveIdsIn = async (id: string) => ((await desired(id)).lives ?? []).map((l) => l.liveId)
const cmdsFor = (liveId: string) =>
  spy.seen.filter(
    (s) =>
      (s.body.kind === 'live-start' && s.body.live.liveId === liveId) ||
      (s.body.kind === 'live-stop' && s.body.liveId === liveId),
  )
beforeAll(async () => {
  t = await startTestPlane({ alertStreamLingerMs: 300 })
  await seedTree(t)
  spy = await spyCommands(t)
  for (const id of ['c-a1', 'c-b']) devices.push(await simDevice(t, id))
})
afterAll(async () => {
  for (const d of devices) await d.close()
  await spy?.close()
  await t?.close()
})

describe('live relay validation', () => {
  const hostile = [
    'file:///etc/passwd',
    'concat:http://a/1|file:///etc/shadow',
    'subfile,,start,0,end,0,,:/etc/passwd',
    'pipe:0',
    'http:///etc/passwd',
    'http://radio.example.vn/a\nfile:///etc/passwd',
    'http://radio.example.vn/a\u0000',
    'gopher://radio.example.vn/',
    '-i /etc/passwd',
    '',
  ]
  for (const sourceUrl of hostile) {
    it(`refuses the source ${JSON.stringify(sourceUrl)}, naming sourceUrl`, async () => {
      const r = await start({ sourceUrl, targets: { units: ['xa-a'] } })
      expect(r.status).toBe(400)
      expect(r.body.code).toBe('LOA_LIVE_INVALID')
      expect(r.body.message).toMatch(/^sourceUrl: only network streams/)
    })
  }
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no title', { title: undefined }, /^title/],
    ['no targets', { targets: {} }, /^targets/],
    ['unknown unit', { targets: { units: ['ghost'] } }, /^targets\.units\[0\]/],
    ['unknown cluster', { targets: { clusters: ['c-a', 'ghost'] } }, /^targets\.clusters\[1\]/],
    ['no matching cluster', { targets: { tags: ['nowhere'] } }, /^targets: no cluster/],
    ['the emergency band', { priority: 200 }, /^priority: a relay is below the emergency band/],
    ['a band beyond 255', { priority: 300 }, /^priority/],
    ['an end already past', { endsAt: '2020-01-01T00:00:00Z' }, /^endsAt/],
    [
      'an end before the start',
      { startsAt: inMs(3_600_000), endsAt: inMs(1_800_000) },
      /^endsAt: must be after/,
    ],
    ['both endsAt and durationS', { endsAt: '2099-01-01T00:00:00Z', durationS: 60 }, /^endsAt/],
    ['a start too far ahead', { startsAt: '2099-01-01T00:00:00Z' }, /^startsAt/],
    ['a duration too short', { durationS: 1 }, /^durationS/],
    ['a volume above 100', { volume: 101 }, /^volume/],
    ['an unknown field', { colour: 'red' }, /colour/],
  ]
  for (const [name, patch, field] of cases) {
    it(`refuses ${name}, naming the field`, async () => {
      const r = await start({ targets: { units: ['xa-a'] }, ...patch })
      expect(r.status).toBe(400)
      expect(r.body.code).toBe('LOA_LIVE_INVALID')
      expect(r.body.message).toMatch(field)
    })
  }
  it('accepts every network protocol of the shared pattern', async () => {
    for (const sourceUrl of [
      'rtsp://cam.example.vn/live',
      'srt://203.0.113.5:9000',
      'udp://239.0.0.1:5004',
    ]) {
      const r = await start({ sourceUrl, targets: { clusters: ['c-b'] }, durationS: 60 })
      expect(r.status).toBe(201)
      await t.api('POST', `/api/lives/${r.body.id}/stop`)
    }
  })
})

describe('live relay fan-out', () => {
  it('a relay to a unit is ONE publish on the unit topic, reaching exactly the clusters below it', async () => {
    const r = await start({ targets: { units: ['xa-a'] }, durationS: 600 })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ revision: 1, targetCount: 2, priority: 60, state: 'active' })
    expect(r.body.id).toMatch(/^l-[0-9a-f-]+$/)
    expect(Date.parse(r.body.endsAt as string) - Date.parse(r.body.startsAt)).toBe(600_000)
    const [inside, outside] = devices as [SimDevice, SimDevice]
    await waitFor(
      () => inside.commands.some((c) => c.kind === 'live-start' && c.live.liveId === r.body.id),
      10_000,
      'unit command',
    )
    await settle()
    expect(cmdsFor(r.body.id).map((s) => s.topic)).toEqual(['loa/v1/unit/xa-a/cmd'])
    expect(outside.commands.filter((c) => c.kind === 'live-start' && c.live.liveId === r.body.id)).toEqual([])
    const cmd = inside.commands.find((c) => c.kind === 'live-start' && c.live.liveId === r.body.id)
    expect(cmd).toMatchObject({
      commandId: r.body.ackId,
      deadline: r.body.endsAt,
      live: { ackId: r.body.ackId, sourceUrl: SRC, priority: 60, revision: 1, endsAt: r.body.endsAt },
    })
    expect(await liveIdsIn('c-a')).toEqual([r.body.id])
    expect(await liveIdsIn('c-a1')).toEqual([r.body.id])
    expect(await liveIdsIn('c-b')).toEqual([])
    await t.api('POST', `/api/lives/${r.body.id}/stop`)
  })

  it('clusters and tags go to each device topic', async () => {
    const byTag = await start({ targets: { tags: ['coast'] }, priority: 90 })
    const byCluster = await start({ targets: { clusters: ['c-a1', 'c-b'] } })
    for (const r of [byTag, byCluster]) expect(r.status).toBe(201)
    expect(byTag.body.endsAt).toBeNull()
    await waitFor(() => cmdsFor(byCluster.body.id).length >= 2, 10_000, 'cluster commands')
    await settle()
    const topics = (id: string) =>
      cmdsFor(id)
        .map((s) => s.topic)
        .sort()
    expect(topics(byTag.body.id)).toEqual(['loa/v1/device/c-b/cmd'])
    expect(topics(byCluster.body.id)).toEqual(['loa/v1/device/c-a1/cmd', 'loa/v1/device/c-b/cmd'])
    // Band first: the commune-priority relay comes before the default-band one.
    expect(await liveIdsIn('c-b')).toEqual([byTag.body.id, byCluster.body.id])
    for (const r of [byTag, byCluster]) await t.api('POST', `/api/lives/${r.body.id}/stop`)
  })
})

describe('live relay acknowledgements', () => {
  it('add up in the view, the list and over the SSE stream', async () => {
    const r = await start({ targets: { units: ['prov'] } })
    const { id, ackId } = r.body
    const stream = await readSse(`${t.cp.httpUrl}/api/lives/${id}/stream`, t.adminHeaders)
    await waitFor(() => stream.events.length >= 1, 10_000, 'first SSE event')
    expect(stream.events[0]).toMatchObject({
      event: 'counts',
      data: { liveId: id, state: 'active', counts: { targeted: 3, pending: 3 } },
    })
    const [a1, b] = devices as [SimDevice, SimDevice]
    const ca = await simDevice(t, 'c-a')
    try {
      await a1.ack(ackId, 'received')
      await b.ack(ackId, 'received')
      await ca.ack(ackId, 'received')
      await a1.ack(ackId, 'playing')
      await b.ack(ackId, 'failed', 'source unreachable')
      const view = () =>
        t.api<{ counts: Counts; clusters: { clusterId: string; stage: string; reason: string | null }[] }>(
          'GET',
          `/api/lives/${id}`,
        )
      await waitFor(
        async () => (await view()).body.counts.failed === 1 && (await view()).body.counts.playing === 1,
        10_000,
        'acks',
      )
      const v = (await view()).body
      expect(v.counts).toEqual({
        targeted: 3,
        received: 1,
        playing: 1,
        failed: 1,
        done: 0,
        cancelled: 0,
        expired: 0,
        pending: 0,
      })
      expect(v.clusters.find((c) => c.clusterId === 'c-b')).toMatchObject({
        stage: 'failed',
        reason: 'source unreachable',
      })
      // The agent retries: a later `playing` after `failed` counts (failed is not final for a relay).
      await b.ack(ackId, 'playing')
      await waitFor(async () => (await view()).body.counts.playing === 2, 10_000, 'retry playing')
      // A re-sent `received` never moves a cluster back.
      await a1.ack(ackId, 'received')
      await waitFor(
        () => stream.events.some((e) => e.event === 'counts' && (e.data.counts as Counts).playing === 2),
        10_000,
        'SSE playing counts',
      )
      const list = await t.api<{ lives: { id: string; counts: Counts }[] }>('GET', '/api/lives?state=active')
      expect(list.body.lives.find((l) => l.id === id)?.counts).toMatchObject({
        targeted: 3,
        playing: 2,
        received: 1,
      })
      await t.api('POST', `/api/lives/${id}/stop`)
      for (const d of [a1, b, ca]) await d.ack(ackId, 'cancelled')
      await stream.done
      const last = stream.events.at(-1)
      expect(last?.event).toBe('end')
      const counts = stream.events.filter((e) => e.event === 'counts').at(-1)?.data.counts as Counts
      expect(counts.cancelled + counts.playing + counts.received).toBe(3)
    } finally {
      stream.abort()
      await ca.close()
    }
  })
  it('a failed relay is being retried: its stream does not end until a final stage', async () => {
    const r = await start({ targets: { clusters: ['c-b'] } })
    const b = devices[1] as SimDevice
    const stream = await readSse(`${t.cp.httpUrl}/api/lives/${r.body.id}/stream`, t.adminHeaders)
    try {
      await b.ack(r.body.ackId, 'failed', 'source unreachable')
      await waitFor(
        () => stream.events.some((e) => e.event === 'counts' && (e.data.counts as Counts).failed === 1),
        10_000,
        'failed counts',
      )
      await settle()
      expect(stream.events.some((e) => e.event === 'end')).toBe(false)
      await b.ack(r.body.ackId, 'done')
      await stream.done
      expect(stream.events.at(-1)).toMatchObject({
        event: 'end',
        data: { liveId: r.body.id, reason: 'all-final' },
      })
    } finally {
      stream.abort()
      await t.api('POST', `/api/lives/${r.body.id}/stop`)
    }
  })
})

describe('late joiners, stop and end', () => {
  it('a late-joining device finds the relay in its desired state; stop publishes live-stop and removes it', async () => {
    const r = await start({ targets: { units: ['prov'] } })
    await waitFor(() => cmdsFor(r.body.id).length >= 1, 10_000, 'live-start publish')
    const late = await simDevice(t, 'c-a')
    try {
      await late.online()
      await waitFor(
        () =>
          late.desired.some((d) => d.lives?.some((l) => l.liveId === r.body.id && l.ackId === r.body.ackId)),
        10_000,
        'late joiner desired state',
      )
      const s = await t.api<{ state: string }>('POST', `/api/lives/${r.body.id}/stop`)
      expect(s.status).toBe(200)
      expect(s.body.state).toBe('stopped')
      await waitFor(
        () => late.commands.some((x) => x.kind === 'live-stop' && x.liveId === r.body.id),
        10_000,
        'live-stop command',
      )
      await settle()
      expect(cmdsFor(r.body.id).map((x) => `${x.body.kind} ${x.topic}`)).toEqual([
        'live-start loa/v1/unit/prov/cmd',
        'live-stop loa/v1/unit/prov/cmd',
      ])
      expect(await liveIdsIn('c-a')).not.toContain(r.body.id)
      await waitFor(() => late.desired.at(-1)?.lives === undefined, 10_000, 'desired state without the relay')
      // Stopping again changes nothing and sends nothing.
      expect((await t.api<{ state: string }>('POST', `/api/lives/${r.body.id}/stop`)).body.state).toBe(
        'stopped',
      )
      await settle(200)
      expect(cmdsFor(r.body.id)).toHaveLength(2)
    } finally {
      await late.close()
    }
  })

  it('a relay leaves the desired states at endsAt', async () => {
    const endsAt = new Date(Date.now() + 1500).toISOString()
    const r = await start({ targets: { clusters: ['c-b'] }, endsAt })
    expect(r.status).toBe(201)
    expect(await liveIdsIn('c-b')).toContain(r.body.id)
    await waitFor(async () => !(await liveIdsIn('c-b')).includes(r.body.id), 10_000, 'relay gone at endsAt')
    const v = await t.api<{ live: { state: string } }>('GET', `/api/lives/${r.body.id}`)
    expect(v.body.live.state).toBe('ended')
  })

  it('unknown ids are 404', async () => {
    expect((await t.api('GET', '/api/lives/ghost')).status).toBe(404)
    expect((await t.api('POST', '/api/lives/ghost/stop')).status).toBe(404)
    expect((await fetch(`${t.cp.httpUrl}/api/lives/ghost/stream`, { headers: t.adminHeaders })).status).toBe(
      404,
    )
  })
})
