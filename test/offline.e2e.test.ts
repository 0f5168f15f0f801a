import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTone, sleep, waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentHandle, startAgent } from './harness/agent.js'
import type { ClusterView, Play } from './harness/api-types.js'

import { type ControlPlaneHandle, startControlPlane } from './harness/control-plane.js'
import { seedProvince } from './harness/province.js'
import { secondsFromNow, weeklyAt } from './harness/schedule.js'

async function clusters(cp: ControlPlaneHandle): Promise<Map<string, ClusterView>> {
  const { clusters } = await cp.api<{ clusters: ClusterView[] }>('GET', '/api/clusters')
  return new Map(clusters.map((c) => [c.id, c]))
}

async function converged(cp: ControlPlaneHandle, ids: string[]): Promise<boolean> {
  const all = await clusters(cp)
  return ids.every((id) => {
    const c = all.get(id)
    return c?.online === true && c.desiredVersion !== null && c.appliedVersion === c.desiredVersion
  })
}

describe('offline first', { timeout: 180_000 }, () => {
  let dir: string
  let cp: ControlPlaneHandle
  const agents: AgentHandle[] = []
  let bulletinId: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-e2e-offline-'))
    cp = await startControlPlane(dir)
    await seedProvince(cp)
    for (const id of ['c-ab-1', 'c-hp-1']) {
      agents.push(await startAgent(dir, id, { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl }))
    }
    const wav = join(dir, 'tone.wav')
    makeTone(wav, 1)
    const media = await cp.upload(wav)
    bulletinId = (
      await cp.api<{ id: string }>('POST', '/api/bulletins', {
        title: 'Thông báo',
        level: 'normal',
        mediaSha256: media.sha256,
      })
    ).id
  })

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()))
    await cp?.stop()
    if (dir && !process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  })

  it('keeps playing with the control plane and its broker down, and reports every play exactly once after', async () => {
    const instants = [secondsFromNow(15_000), secondsFromNow(21_000), secondsFromNow(27_000)]
    const schedule = await cp.api<{ id: string }>('POST', '/api/schedules', {
      bulletinId,
      recurrence: weeklyAt(instants),
      targets: { clusters: ['c-ab-1', 'c-hp-1'] },
    })
    await waitFor(() => converged(cp, ['c-ab-1', 'c-hp-1']), 15_000, 'both clusters to apply the schedule')

    await cp.stop() // control plane and its embedded broker are gone
    await waitFor(
      () =>
        agents.every((a) => a.query('SELECT 1 FROM plays WHERE schedule_id = ?', schedule.id).length >= 3),
      40_000,
      'three plays on each cluster while offline',
    )
    expect(Date.now()).toBeGreaterThan(instants[2]?.getTime() ?? 0)

    await cp.restart()
    const plays = await waitFor(
      async () => {
        const { plays } = await cp.api<{ plays: Play[] }>('GET', `/api/plays?scheduleId=${schedule.id}`)
        return plays.length >= 6 ? plays : undefined
      },
      // Agents reconnect with exponential backoff (up to 60 s with jitter) so a commune does not stampede.
      90_000,
      'the offline plays to reach the control plane',
    )
    // Let any re-sends arrive: they must be de-duplicated, not counted again.
    await sleep(3_000)
    const { plays: after } = await cp.api<{ plays: Play[] }>('GET', `/api/plays?scheduleId=${schedule.id}`)
    expect(after.length).toBe(plays.length)
    for (const id of ['c-ab-1', 'c-hp-1']) {
      const mine = after.filter((p) => p.clusterId === id)
      expect(mine.map((p) => p.occurrence).sort()).toEqual(instants.map((i) => i.toISOString()))
      expect(mine.map((p) => `${p.status}:${p.reason ?? ''}`)).toEqual(instants.map(() => 'played:'))
    }
  })

  it('converges after a broker restart without relying on retained messages', async () => {
    // c-hp-1 is away while its desired state changes; then the broker (in memory) restarts and forgets everything.
    const away = agents.find((a) => a.deviceId === 'c-hp-1')
    if (!away) throw new Error('no agent')
    await away.stop()
    const before = (await clusters(cp)).get('c-hp-1')?.desiredVersion ?? 0
    await cp.api('POST', '/api/schedules', {
      bulletinId,
      recurrence: { kind: 'once', at: secondsFromNow(3_600_000).toISOString() },
      targets: { units: ['tinh-thu'] },
    })
    await waitFor(
      async () => {
        const v = (await clusters(cp)).get('c-hp-1')?.desiredVersion ?? 0
        return v > before
      },
      30_000,
      'a new desired version for c-hp-1',
    )
    await cp.restart()
    await away.start()
    await waitFor(
      () => converged(cp, ['c-ab-1', 'c-hp-1']),
      30_000,
      'every cluster to converge on the current desired state',
    )
    const now = await clusters(cp)
    expect(now.get('c-hp-1')?.appliedVersion).toBeGreaterThan(before)
  })
})
