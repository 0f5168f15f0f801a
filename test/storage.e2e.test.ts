import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canMountSmallDisk, fillDisk, mountSmallDisk, unmountSmallDisk, waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentHandle, startAgent } from './harness/agent.js'
import type { ClusterView, DeviceEvent, Play } from './harness/api-types.js'
import { toneBulletin } from './harness/bulletin.js'
import { type ControlPlaneHandle, startControlPlane } from './harness/control-plane.js'
import { seedProvince } from './harness/province.js'
import { secondsFromNow, weeklyAt } from './harness/schedule.js'

const PAGE = 4096

function overwrite(file: string, offset: number, length: number, byte: number): void {
  const fd = openSync(file, 'r+')
  writeSync(fd, Buffer.alloc(length, byte), 0, length, offset)
  closeSync(fd)
}

const canMount = canMountSmallDisk(join(tmpdir(), `loa-mount-probe-${process.pid}`))
if (!canMount)
  console.warn('the disk-full test is skipped: mounting a tmpfs is not permitted here (run as root)')

describe('storage on the box: lost WAL, damaged database, full disk', { timeout: 240_000 }, () => {
  let dir: string
  let cp: ControlPlaneHandle
  const agents: AgentHandle[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-e2e-storage-'))
    cp = await startControlPlane(dir)
    await seedProvince(cp)
  })

  const mounts: string[] = []
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()))
    for (const m of mounts) unmountSmallDisk(m)
    await cp?.stop()
    if (dir && !process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  })

  const bulletin = (seconds: number, hz: number) => toneBulletin(cp, dir, seconds, hz)

  const applied = (clusterId: string) =>
    waitFor(
      async () => {
        const c = await cp.api<ClusterView>('GET', `/api/clusters/${clusterId}`)
        return c.appliedVersion !== null && c.appliedVersion === c.desiredVersion && c.desiredVersion > 1
      },
      30_000,
      `${clusterId} to apply its desired state`,
    )
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
      () => agent.query<{ version: number }>("SELECT version FROM desired WHERE slot = 'applied'").length > 0,
      30_000,
      'the schedule to be in the agent db',
    )
    const walBefore = statSync(wal).size
    const reported = await waitFor(
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
      'four plays stored and receipted',
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
      () =>
        agent.query<{ n: number }>('SELECT count(*) AS n FROM plays WHERE schedule_id = ?', schedule.id)[0]
          ?.n === 4 &&
        agent.query<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE channel = 'play'")[0]?.n === 0,
      60_000,
      'the occurrences reported again by the box',
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

  /** A one-second tone scheduled once, `inMs` from now, on `clusterId`; resolves once the cluster applied it. */
  async function onceApplied(clusterId: string, hz: number, inMs: number): Promise<{ id: string }> {
    const b = await bulletin(1, hz)
    const schedule = await cp.api<{ id: string }>('POST', '/api/schedules', {
      bulletinId: b.id,
      recurrence: { kind: 'once', at: secondsFromNow(inMs).toISOString() },
      targets: { clusters: [clusterId] },
    })
    await applied(clusterId)
    return schedule
  }

  const starts = (agent: AgentHandle) => agent.process.lines().filter((l) => l.msg === 'agent started').length
  const damagedFiles = (agent: AgentHandle) =>
    readdirSync(agent.dataDir).filter((f) => f.startsWith('agent.db.corrupt-') && !/-(wal|shm)$/.test(f))

  it('a destroyed header: recovered at once, reported, its desired state comes again, it plays on', async () => {
    const agent = await startAgent(dir, 'c-ab-2', { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl })
    agents.push(agent)
    const schedule = await onceApplied('c-ab-2', 550, 45_000)
    const version = (await cp.api<ClusterView>('GET', '/api/clusters/c-ab-2')).desiredVersion
    // Stopped (the WAL is checkpointed into the file: a header page still in the WAL would heal itself), then the
    // header is destroyed, as a power cut during a write on an SD card can leave it.
    expect(await agent.stop()).toBe(0)
    overwrite(join(agent.dataDir, 'agent.db'), 0, 100, 0x41)

    await agent.start()
    const event = await waitFor(
      async () => {
        const { events } = await cp.api<{ events: DeviceEvent[] }>(
          'GET',
          '/api/events?clusterId=c-ab-2&kind=database-recovered',
        )
        return events[0]
      },
      30_000,
      'the database-recovered event',
    )
    expect(event.severity).toBe('error')
    expect(event.data).toMatchObject({
      code: 'SQLITE_NOTADB',
      detectedBy: 'open',
      error: 'file is not a database',
    })
    expect(damagedFiles(agent)).toEqual([event.data?.damagedFile])
    // Nothing could be read from it: the control plane sends the desired state again, the media already on disk
    // are adopted by their hash, and the occurrence plays.
    await waitFor(
      () =>
        agent.query<{ version: number }>("SELECT version FROM desired WHERE slot = 'applied'")[0]?.version ===
        version,
      30_000,
      'the desired state applied again',
    )
    const plays = await waitFor(
      async () => {
        const p = await playsOf(schedule.id)
        return p.length > 0 ? p : undefined
      },
      90_000,
      'the play after the recovery',
    )
    expect(plays.map((p) => p.status)).toEqual(['played'])
    // Started once: no crash loop.
    expect(agent.process.child.exitCode).toBeNull()
    expect(starts(agent)).toBe(1)
  })

  it('damaged pages in the middle, found at start with the control plane away: what is readable is kept and it plays offline', async () => {
    const agent = await startAgent(dir, 'c-hp-1', { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl })
    agents.push(agent)
    const schedule = await onceApplied('c-hp-1', 660, 45_000)
    // A clean stop checkpoints the WAL into the file: the damage below is what the next start reads.
    expect(await agent.stop()).toBe(0)
    const file = join(agent.dataDir, 'agent.db')
    const pages = agent.query<{ pageno: number }>(
      "SELECT pageno FROM dbstat WHERE name IN ('media', 'relay_log', 'outbox') ORDER BY pageno",
    )
    expect(pages.length).toBeGreaterThan(0)
    for (const p of pages) overwrite(file, (p.pageno - 1) * PAGE, PAGE, 0x5a)
    await cp.stop()
    try {
      await agent.start()
      const line = await agent.process.waitForLog(
        (l) => l.msg === 'database was damaged: moved aside, started from a fresh one',
      )
      expect(line.recovery).toMatchObject({ detectedBy: 'check', salvaged: { desired: 2 } })
      expect(damagedFiles(agent)).toHaveLength(1)
      // Offline, from the desired state carried over and the media adopted from disk, it plays on time.
      const rows = await waitFor(
        () => {
          const r = agent.query<{ status: string }>(
            'SELECT status FROM plays WHERE schedule_id = ?',
            schedule.id,
          )
          return r.length > 0 ? r : undefined
        },
        90_000,
        'the offline play after the recovery',
      )
      expect(rows.map((r) => r.status)).toEqual(['played'])
      expect(agent.process.child.exitCode).toBeNull()
      expect(starts(agent)).toBe(1)
      // The event waits in the outbox for the control plane.
      expect(
        agent.query<{ n: number }>(
          "SELECT count(*) AS n FROM outbox WHERE body LIKE '%database-recovered%'",
        )[0]?.n,
      ).toBe(1)
    } finally {
      await cp.restart()
    }
  })

  it.skipIf(!canMount)(
    'the data disk 100 % full: three occurrences play and are counted, and the pending state applies by itself once room returns',
    async () => {
      const dataDir = join(dir, 'agents', 'c-ab-thon-1')
      expect(mountSmallDisk(dataDir, 24)).toBe(true)
      mounts.push(dataDir)
      const agent = await startAgent(dir, 'c-ab-thon-1', {
        mqttUrl: cp.mqttUrl,
        controlPlaneUrl: cp.httpUrl,
        env: { LOA_DISK_RESERVE_MB: '2', LOA_DISK_CHECK_S: '1', LOA_MIN_FREE_MB: '1' },
      })
      agents.push(agent)
      const b = await bulletin(1, 770)
      const first = secondsFromNow(30_000)
      const instants = [0, 4, 8].map((s) => new Date(first.getTime() + s * 1000))
      const schedule = await cp.api<{ id: string }>('POST', '/api/schedules', {
        bulletinId: b.id,
        recurrence: weeklyAt(instants),
        targets: { clusters: ['c-ab-thon-1'] },
      })
      await applied('c-ab-thon-1')
      await waitFor(() => existsSync(join(dataDir, 'disk-reserve')), 30_000, 'the reserve')
      const filler = fillDisk(dataDir)
      // A change while the disk is full: its new audio has to wait for room.
      const later = await bulletin(2, 880)
      await cp.api('POST', '/api/schedules', {
        bulletinId: later.id,
        recurrence: { kind: 'once', at: secondsFromNow(900_000).toISOString() },
        targets: { clusters: ['c-ab-thon-1'] },
      })
      const plays = await waitFor(
        async () => {
          const p = (await playsOf(schedule.id)).filter((x) =>
            instants.some((i) => i.toISOString() === x.occurrence),
          )
          return p.length === 3 ? p : undefined
        },
        90_000,
        'three plays counted by the control plane',
      )
      expect(plays.map((p) => p.status)).toEqual(['played', 'played', 'played'])
      const events = async (kind: string) =>
        (await cp.api<{ events: DeviceEvent[] }>('GET', `/api/events?clusterId=c-ab-thon-1&kind=${kind}`))
          .events
      expect(await events('disk-full')).toHaveLength(1)
      const stuck = await cp.api<ClusterView>('GET', '/api/clusters/c-ab-thon-1')
      expect(stuck.appliedVersion ?? 0).toBeLessThan(stuck.desiredVersion ?? 0)

      // Room again: no resync command, the box applies what it was waiting for.
      unlinkSync(filler)
      await applied('c-ab-thon-1')
      await waitFor(
        async () => (await events('disk-space-recovered')).length === 1,
        30_000,
        'disk-space-recovered',
      )
      expect(existsSync(join(dataDir, 'disk-reserve'))).toBe(true)
      expect(agent.process.child.exitCode).toBeNull()
      expect(starts(agent)).toBe(1)
    },
  )
})
