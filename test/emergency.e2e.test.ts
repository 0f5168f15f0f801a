import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTone, waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentHandle, startAgent } from './harness/agent.js'
import type { ClusterView, Play } from './harness/api-types.js'

import { type ControlPlaneHandle, startControlPlane } from './harness/control-plane.js'
import { seedProvince } from './harness/province.js'

interface AlertView {
  alert: { id: string; ackId: string }
  counts: Record<'targeted' | 'received' | 'playing' | 'done' | 'failed' | 'cancelled' | 'expired', number>
  clusters: { clusterId: string; stage: string; at: string; reason?: string | null }[]
}

// An emergency reaches exactly the targeted agents (real processes), acknowledgements add up, a device that
// connects late joins, and cancel stops them all.
describe('emergency alerts, end to end', { timeout: 180_000 }, () => {
  let dir: string
  let cp: ControlPlaneHandle
  const agents = new Map<string, AgentHandle>()
  let bulletinId: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-e2e-emergency-'))
    cp = await startControlPlane(dir)
    await seedProvince(cp)
    // c-ab-thon-1 stays away at first: it joins late.
    for (const id of ['c-ab-1', 'c-ab-2', 'c-hp-1']) {
      agents.set(id, await startAgent(dir, id, { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl }))
    }
    await waitFor(
      async () => {
        const { clusters } = await cp.api<{ clusters: ClusterView[] }>('GET', '/api/clusters')
        return clusters.filter((c) => c.online && c.appliedVersion === c.desiredVersion).length === 3
      },
      30_000,
      'three clusters online',
    )
    const wav = join(dir, 'siren.wav')
    makeTone(wav, 12, 960)
    const media = await cp.upload(wav, 'canh-bao-lu.wav')
    bulletinId = (
      await cp.api<{ id: string }>('POST', '/api/bulletins', {
        title: 'Cảnh báo lũ',
        level: 'emergency',
        mediaSha256: media.sha256,
      })
    ).id
  })

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()))
    await cp?.stop()
    if (dir && !process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  })

  it('reaches exactly the commune, late joiners join, acknowledgements add up, and cancel stops them all', async () => {
    const raised = await cp.api<{ id: string; targetCount: number }>('POST', '/api/alerts', {
      title: 'Cảnh báo lũ khẩn cấp',
      bulletinId,
      targets: { units: ['xa-an-binh'] },
      repeat: 3,
      expiresInS: 600,
    })
    expect(raised.targetCount).toBe(3) // c-ab-1, c-ab-2 and c-ab-thon-1 (a village below the commune)
    const view = () => cp.api<AlertView>('GET', `/api/alerts/${raised.id}`)

    await waitFor(
      async () => (await view()).counts.playing >= 2,
      30_000,
      'the two online commune clusters to play',
    )
    // The late joiner connects now and finds the alert in its desired state.
    agents.set(
      'c-ab-thon-1',
      await startAgent(dir, 'c-ab-thon-1', { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl }),
    )
    await waitFor(async () => (await view()).counts.playing >= 3, 45_000, 'the late joiner to play too')
    const playing = await view()
    expect(playing.clusters.map((c) => c.clusterId).sort()).toEqual(['c-ab-1', 'c-ab-2', 'c-ab-thon-1'])
    expect(playing.counts.targeted).toBe(3)

    // The cluster in the other commune heard nothing.
    const outside = agents.get('c-hp-1')
    expect(outside?.query<{ on: number }>('SELECT "on" FROM relay_log')).toEqual([])

    await cp.api('POST', `/api/alerts/${raised.id}/cancel`)
    await waitFor(
      async () => (await view()).counts.cancelled === 3,
      20_000,
      'every targeted cluster to acknowledge the cancel',
    )
    // Amplifiers off everywhere (after the post-roll).
    await waitFor(
      () =>
        ['c-ab-1', 'c-ab-2', 'c-ab-thon-1'].every(
          (id) =>
            agents.get(id)?.query<{ on: number }>('SELECT "on" FROM relay_log ORDER BY seq DESC LIMIT 1')[0]
              ?.on === 0,
        ),
      10_000,
      'every amplifier off',
    )
    // Proof of play: each targeted cluster reported its (interrupted) alert play; none reported a full three repeats.
    const plays = await waitFor(
      async () => {
        const { plays } = await cp.api<{ plays: Play[] }>('GET', `/api/plays?scheduleId=${raised.id}`)
        return new Set(plays.map((p) => p.clusterId)).size === 3 ? plays : undefined
      },
      30_000,
      'the alert plays to be reported',
    )
    expect(new Set(plays.map((p) => p.clusterId))).toEqual(new Set(['c-ab-1', 'c-ab-2', 'c-ab-thon-1']))
    expect(plays.some((p) => p.status === 'interrupted')).toBe(true)
    expect(plays.filter((p) => p.status === 'played').length).toBeLessThan(9)
  })
})
