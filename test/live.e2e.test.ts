import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTone, waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentHandle, startAgent } from './harness/agent.js'
import type { ClusterView, DeviceEvent, Play } from './harness/api-types.js'

import { type ControlPlaneHandle, startControlPlane } from './harness/control-plane.js'
import { seedProvince } from './harness/province.js'
import { secondsFromNow } from './harness/schedule.js'
import { type StreamServer, startStreamServer } from './harness/stream-server.js'

interface LiveView {
  counts: Record<'targeted' | 'received' | 'playing' | 'failed' | 'done' | 'cancelled', number>
  clusters: { clusterId: string; stage: string }[]
}

// A live relay (tiếp sóng) from a local stream server reaches exactly the targeted agents (real processes);
// killing the source makes them fall back to their schedule, and they resume when it returns.
describe('live relay, end to end', { timeout: 180_000 }, () => {
  let dir: string
  let cp: ControlPlaneHandle
  let station: StreamServer
  const agents = new Map<string, AgentHandle>()

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-e2e-live-'))
    cp = await startControlPlane(dir)
    await seedProvince(cp)
    station = await startStreamServer()
    for (const id of ['c-ab-1', 'c-ab-2', 'c-hp-1']) {
      agents.set(id, await startAgent(dir, id, { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl }))
    }
    await waitFor(
      async () => {
        const { clusters } = await cp.api<{ clusters: ClusterView[] }>('GET', '/api/clusters')
        return clusters.filter((c) => c.online).length === 3
      },
      30_000,
      'three clusters online',
    )
  })

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()))
    await station?.close()
    await cp?.stop()
    if (dir && !process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  })

  const ampOn = (id: string) =>
    agents.get(id)?.query<{ on: number }>('SELECT "on" FROM relay_log ORDER BY seq DESC LIMIT 1')[0]?.on === 1
  const events = async (kind: string) =>
    (await cp.api<{ events: DeviceEvent[] }>('GET', `/api/events?kind=${kind}&limit=500`)).events

  it('relays, falls back while the source is gone, resumes, and stops', async () => {
    const live = await cp.api<{ id: string; targetCount: number }>('POST', '/api/lives', {
      title: 'Tiếp sóng VOV1',
      sourceUrl: station.url,
      targets: { units: ['xa-an-binh'] },
    })
    expect(live.targetCount).toBe(3) // c-ab-thon-1 is targeted too, but offline
    const view = () => cp.api<LiveView>('GET', `/api/lives/${live.id}`)
    await waitFor(
      async () => (await view()).counts.playing >= 2,
      30_000,
      'both online commune clusters to relay',
    )
    expect(station.listeners()).toBe(2)
    expect(ampOn('c-ab-1') && ampOn('c-ab-2')).toBe(true)
    expect(agents.get('c-hp-1')?.query('SELECT 1 FROM relay_log')).toEqual([])

    // The source goes away; a bulletin falls due meanwhile and plays on the schedule.
    const wav = join(dir, 'bulletin.wav')
    makeTone(wav, 2)
    const media = await cp.upload(wav)
    const b = await cp.api<{ id: string }>('POST', '/api/bulletins', {
      title: 'Bản tin',
      level: 'normal',
      mediaSha256: media.sha256,
    })
    station.kill()
    await waitFor(
      async () => {
        const dropped = await events('live-dropped')
        return new Set(dropped.map((e) => e.clusterId)).size >= 2
      },
      30_000,
      'both to notice the drop',
    )
    const sched = await cp.api<{ id: string }>('POST', '/api/schedules', {
      bulletinId: b.id,
      recurrence: { kind: 'once', at: secondsFromNow(8_000).toISOString() },
      targets: { clusters: ['c-ab-1', 'c-ab-2'] },
    })
    const played = await waitFor(
      async () => {
        const { plays } = await cp.api<{ plays: Play[] }>('GET', `/api/plays?scheduleId=${sched.id}`)
        return plays.length >= 2 ? plays : undefined
      },
      40_000,
      'the bulletin to play while the source is down',
    )
    expect(played.every((p) => p.status === 'played')).toBe(true)

    // The source returns: both resume.
    const playingBefore = (await events('live-playing')).length
    station.revive()
    await waitFor(
      async () => (await events('live-playing')).length >= playingBefore + 2,
      60_000,
      'both to resume the relay',
    )
    await waitFor(() => station.listeners() === 2, 10_000, 'two listeners again')

    await cp.api('POST', `/api/lives/${live.id}/stop`)
    await waitFor(async () => (await view()).counts.cancelled >= 2, 20_000, 'both to acknowledge the stop')
    await waitFor(() => !ampOn('c-ab-1') && !ampOn('c-ab-2'), 10_000, 'amplifiers off')
    await waitFor(() => station.listeners() === 0, 10_000, 'no listeners left')
  })
})
