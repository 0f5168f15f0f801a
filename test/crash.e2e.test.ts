import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sleep, waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentHandle, startAgent } from './harness/agent.js'
import type { ClusterView, Play } from './harness/api-types.js'
import { toneBulletin } from './harness/bulletin.js'
import { type ControlPlaneHandle, startControlPlane } from './harness/control-plane.js'
import { type MediaProxy, startMediaProxy } from './harness/media-proxy.js'
import { processesMentioning } from './harness/process.js'
import { seedProvince } from './harness/province.js'
import { secondsFromNow } from './harness/schedule.js'

describe('crash safety (kill -9)', { timeout: 180_000 }, () => {
  let dir: string
  let cp: ControlPlaneHandle
  let proxy: MediaProxy
  const agents: AgentHandle[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-e2e-crash-'))
    cp = await startControlPlane(dir)
    await seedProvince(cp)
    proxy = await startMediaProxy(cp.httpUrl)
  })

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()))
    await proxy?.close()
    await cp?.stop()
    if (dir && !process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  })

  const bulletin = (seconds: number, hz: number) => toneBulletin(cp, dir, seconds, hz)

  it('never uses a partial download, and resumes it after a crash', async () => {
    proxy.mode = { kind: 'slow', bytesPerSecond: 4000 }
    const agent = await startAgent(dir, 'c-ab-1', { mqttUrl: cp.mqttUrl, controlPlaneUrl: proxy.url })
    agents.push(agent)
    const b = await bulletin(20, 523)
    const at = secondsFromNow(45_000)
    const schedule = await cp.api<{ id: string }>('POST', '/api/schedules', {
      bulletinId: b.id,
      recurrence: { kind: 'once', at: at.toISOString() },
      targets: { clusters: ['c-ab-1'] },
    })
    const mediaDir = join(agent.dataDir, 'media')
    const part = join(mediaDir, `${b.sha256}.part`)
    await waitFor(
      () => existsSync(part) && statSync(part).size > 12_000,
      30_000,
      'a partial download on disk',
    )
    await agent.kill9()
    const partSize = statSync(part).size
    expect(existsSync(join(mediaDir, b.sha256))).toBe(false)

    proxy.mode = { kind: 'pass' }
    const requestsBefore = proxy.ranges.length
    await agent.start()
    await waitFor(
      async () => {
        const c = await cp.api<ClusterView>('GET', '/api/clusters/c-ab-1')
        return c.appliedVersion !== null && c.appliedVersion === c.desiredVersion
      },
      30_000,
      'the download to complete after restart',
    )
    // It resumed from where it was, not from zero.
    const resumed = proxy.ranges.slice(requestsBefore).find((r) => r.startsWith('bytes='))
    expect(resumed).toBeDefined()
    expect(Number(/bytes=(\d+)-/.exec(resumed ?? '')?.[1])).toBeGreaterThan(0)
    expect(Number(/bytes=(\d+)-/.exec(resumed ?? '')?.[1])).toBeLessThanOrEqual(partSize)
    // The file in the cache is exactly the published media, and no part file is left behind.
    const final = readFileSync(join(mediaDir, b.sha256))
    expect(createHash('sha256').update(final).digest('hex')).toBe(b.sha256)
    expect(readdirSync(mediaDir).filter((f) => f.endsWith('.part'))).toEqual([])

    const plays = await waitFor(
      async () => {
        const { plays } = await cp.api<{ plays: Play[] }>('GET', `/api/plays?scheduleId=${schedule.id}`)
        return plays.length > 0 ? plays : undefined
      },
      90_000,
      'the play after the resumed download',
    )
    expect(plays).toHaveLength(1)
    expect(plays[0]?.status).toBe('played')
  })

  it('loses nothing from the outbox when killed during playback while offline', async () => {
    const agent = await startAgent(dir, 'c-ab-2', { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl })
    agents.push(agent)
    const short = await bulletin(1, 660)
    const long = await bulletin(8, 880)
    const t1 = secondsFromNow(14_000)
    const t2 = new Date(t1.getTime() + 5_000)
    const first = await cp.api<{ id: string }>('POST', '/api/schedules', {
      bulletinId: short.id,
      recurrence: { kind: 'once', at: t1.toISOString() },
      targets: { clusters: ['c-ab-2'] },
    })
    await cp.api('POST', '/api/schedules', {
      bulletinId: long.id,
      recurrence: { kind: 'once', at: t2.toISOString() },
      targets: { clusters: ['c-ab-2'] },
    })
    await waitFor(
      async () => {
        const c = await cp.api<ClusterView>('GET', '/api/clusters/c-ab-2')
        return c.appliedVersion !== null && c.appliedVersion === c.desiredVersion && c.desiredVersion > 1
      },
      30_000,
      'c-ab-2 to apply its schedule',
    )

    await cp.stop() // no receipts can come back: the first play stays in the outbox
    await waitFor(
      () => agent.query('SELECT 1 FROM plays').length >= 1,
      30_000,
      'the first play in the agent log',
    )
    await waitFor(
      () =>
        agent.query<{ on: number }>('SELECT "on" FROM relay_log ORDER BY rowid DESC LIMIT 1')[0]?.on === 1 &&
        Date.now() > t2.getTime() + 1000,
      30_000,
      'the second item to be playing',
    )
    expect(processesMentioning(join(agent.dataDir, 'media')).length).toBeGreaterThan(0) // ffmpeg is playing
    await agent.kill9()
    expect(agent.query('SELECT 1 FROM outbox').length).toBeGreaterThan(0)
    // The player dies with the agent: no orphaned ffmpeg keeps the amplifier's audio going.
    await waitFor(
      () => processesMentioning(join(agent.dataDir, 'media')).length === 0,
      5_000,
      'ffmpeg to end with its agent',
    )

    await agent.start()
    await cp.restart()
    await waitFor(() => agent.query('SELECT 1 FROM outbox').length === 0, 30_000, 'the outbox to drain')
    await sleep(2_000)
    const { plays } = await cp.api<{ plays: Play[] }>('GET', '/api/plays?clusterId=c-ab-2')
    const firstPlays = plays.filter((p) => p.scheduleId === first.id)
    expect(firstPlays).toHaveLength(1)
    expect(firstPlays[0]?.status).toBe('played')
    // Nothing is counted twice: one record per (schedule, occurrence, item, status).
    const keys = plays.map((p) => `${p.scheduleId}|${p.occurrence}|${p.sha256}|${p.status}`)
    expect(new Set(keys).size).toBe(keys.length)
  })
})
