import { existsSync, mkdtempSync, rmSync, statSync, truncateSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentHandle, startAgent } from './harness/agent.js'
import type { ClusterView, Play } from './harness/api-types.js'
import { toneBulletin } from './harness/bulletin.js'
import { type ControlPlaneHandle, startControlPlane } from './harness/control-plane.js'
import { seedProvince } from './harness/province.js'
import { secondsFromNow, weeklyAt } from './harness/schedule.js'
import { waitFor } from './harness/wait.js'

describe('storage on the box: lost WAL, damaged database', { timeout: 240_000 }, () => {
  let dir: string
  let cp: ControlPlaneHandle
  const agents: AgentHandle[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-e2e-storage-'))
    cp = await startControlPlane(dir)
    await seedProvince(cp)
  })

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()))
    await cp?.stop()
    if (dir && !process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  })

  const bulletin = (seconds: number, hz: number) => toneBulletin(cp, dir, seconds, hz)

  const applied = (clusterId: string) =>
    waitFor(`${clusterId} to apply its desired state`, async () => {
      const c = await cp.api<ClusterView>('GET', `/api/clusters/${clusterId}`)
      return c.appliedVersion !== null && c.appliedVersion === c.desiredVersion && c.desiredVersion > 1
    })
  const playsOf = async (scheduleId: string) =>
    (await cp.api<{ plays: Play[] }>('GET', `/api/plays?scheduleId=${scheduleId}&limit=1000`)).plays

  it('a truncated WAL makes the box report its plays again under new ids: the control plane counts each once', async () => {
    const agent = await startAgent(dir, 'c-ab-1', { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl })
    agents.push(agent)
    const b = await bulletin(1, 440)
    const first = secondsFromNow(25_000)
    const instants = [0, 4, 8, 12].map((s) => new Date(first.getTime() + s * 1000))
    const schedule = await cp.api<{ id: string }>('POST', '/api/schedules', {
      bulletinId: b.id,
      recurrence: weeklyAt(instants),
      targets: { clusters: ['c-ab-1'] },
    })
    await applied('c-ab-1')
    // What the WAL holds before the plays: a power cut on an SD card can lose every frame written after it.
    const wal = join(agent.dataDir, 'agent.db-wal')
    await waitFor(
      'the schedule to be in the agent db',
      () => agent.query<{ version: number }>("SELECT version FROM desired WHERE slot = 'applied'").length > 0,
    )
    const walBefore = statSync(wal).size
    const reported = await waitFor(
      'four plays stored and receipted',
      async () => {
        const plays = (await playsOf(schedule.id)).filter((p) =>
          instants.some((i) => i.toISOString() === p.occurrence),
        )
        const pending = agent.query<{ n: number }>(
          "SELECT count(*) AS n FROM outbox WHERE channel = 'play'",
        )[0]?.n
        return plays.length === 4 && pending === 0 ? plays : undefined
      },
      90_000,
    )
    expect(reported.every((p) => p.status === 'played')).toBe(true)
    await agent.kill9()
    // The frames of the plays (and of the cursor that passed them) are lost; the index of the WAL goes with the
    // reboot. The test is only meaningful if they were not yet checkpointed into the main file.
    expect(statSync(wal).size).toBeGreaterThan(walBefore)
    truncateSync(wal, walBefore)
    if (existsSync(`${wal.slice(0, -4)}-shm`)) unlinkSync(`${wal.slice(0, -4)}-shm`)
    expect(agent.query('SELECT 1 FROM plays WHERE schedule_id = ?', schedule.id)).toEqual([])

    await agent.start()
    // The box finds the occurrences again (its cursor went back): it reports them anew, played again or missed.
    await waitFor(
      'the occurrences reported again by the box',
      () =>
        agent.query<{ n: number }>('SELECT count(*) AS n FROM plays WHERE schedule_id = ?', schedule.id)[0]
          ?.n === 4 &&
        agent.query<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE channel = 'play'")[0]?.n === 0,
      60_000,
    )
    const again = agent.query<{ report_id: string }>(
      'SELECT report_id FROM plays WHERE schedule_id = ?',
      schedule.id,
    )
    expect(again.every((r) => !reported.some((p) => p.id === r.report_id))).toBe(true) // new envelope ids
    const plays = await playsOf(schedule.id)
    expect(plays).toHaveLength(4)
    expect(plays.map((p) => p.status)).toEqual(['played', 'played', 'played', 'played'])
    expect(new Set(plays.map((p) => p.id))).toEqual(new Set(reported.map((p) => p.id)))
  })
})
