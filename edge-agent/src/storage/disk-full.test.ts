import { existsSync, statfsSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { DesiredStateBody, ScheduleEntry } from '@loa/shared'
import { canMountSmallDisk, fillDisk, mountSmallDisk, unmountSmallDisk, waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { desired, signed } from '../../test-kit/messages.js'
import { type MediaServer, startMediaServer } from '../../test-kit/servers.js'
import { silentLog, testAgentConfig, tmp, tone } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'

function mountSmall(sizeMb: number): string | null {
  const dir = tmp('loa-disk-')
  return mountSmallDisk(dir, sizeMb) ? dir : null
}
const freeBytes = (dir: string) => {
  const s = statfsSync(dir)
  return s.bavail * s.bsize
}

const probe = canMountSmallDisk(tmp('loa-disk-probe-'))
if (!probe) console.warn('disk-full tests skipped: mounting a tmpfs is not permitted here (run as root)')

const at = (ms: number) =>
  new Date(Math.ceil((Date.now() + ms) / 1000) * 1000).toISOString().replace('.000Z', 'Z')
const once = (id: string, when: string, sha: string): ScheduleEntry => ({
  id,
  title: id,
  level: 'normal',
  priority: 50,
  items: [sha],
  recurrence: { kind: 'once', at: when },
})

describe.skipIf(!probe)('a full data disk (real tmpfs)', () => {
  let media: MediaServer
  const mounts: string[] = []
  beforeAll(async () => {
    media = await startMediaServer()
  })
  afterAll(async () => {
    await media.close()
    for (const m of mounts) unmountSmallDisk(m)
  })

  function setup(reserveMb: number) {
    const dataDir = mountSmall(8) as string
    mounts.push(dataDir)
    const agent = new Agent(
      testAgentConfig('pi-full', 'mqtt://127.0.0.1:9', {
        dataDir,
        controlPlaneUrl: media.url,
        minFreeMb: 0,
        storage: { reserveMb, diskCheckS: 1, dbBudgetMb: 200, playRetentionDays: 30, keepDamaged: 2 },
      }),
      silentLog,
      { retryBaseMs: 200 },
    )
    const publish = (body: DesiredStateBody) =>
      agent.onMessage('loa/v1/device/pi-full/desired', Buffer.from(JSON.stringify(signed('desired', body))))
    const plays = () =>
      agent.db.prepare('SELECT schedule_id, status FROM plays ORDER BY seq').all() as {
        schedule_id: string
        status: string
      }[]
    const events = (kind: string) =>
      (agent.db.prepare("SELECT body FROM outbox WHERE channel = 'event'").all() as { body: string }[])
        .map((r) => JSON.parse(r.body) as { kind: string; data?: Record<string, unknown> })
        .filter((e) => e.kind === kind)
    return { dataDir, agent, publish, plays, events }
  }

  /** Three one-second plays of a new tone, 3 s apart from `firstInMs`; resolves once they are applied (v1). */
  async function threePlays(ctx: ReturnType<typeof setup>, prefix: string, hz: number, firstInMs: number) {
    const a = audio(1, hz)
    const times = [0, 3_000, 6_000].map((d) => at(firstInMs + d))
    const schedule = times.map((t, i) => once(`${prefix}-${i}`, t, a.sha256))
    ctx.publish({ ...desired(1, [a]), deviceId: 'pi-full', schedule })
    await waitFor(() => ctx.agent.store.applied()?.version === 1, 10_000, 'v1 applied')
    return { a, times, schedule }
  }

  /**
   * Waits until the three plays before `last` + 3 s are accounted for (written, or held in memory), frees the
   * disk, and waits until they are written; returns how many had waited in memory.
   */
  async function accountedThenWritten(agent: Agent, last: string, filler: string): Promise<number> {
    const rows = () => (agent.db.prepare('SELECT count(*) AS n FROM plays').get() as { n: number }).n
    await waitFor(
      () => Date.now() > Date.parse(last) + 3000 && rows() + agent.scheduler.plays.unwritten === 3,
      30_000,
      'three plays accounted for',
    )
    const held = agent.scheduler.plays.unwritten
    unlinkSync(filler)
    await waitFor(() => rows() === 3, 20_000, 'the plays written')
    return held
  }

  function audio(seconds: number, hz: number) {
    const t = tone(tmp(), seconds, hz)
    media.files.set(`/f/${t.sha256}`, t.data)
    return { sha256: t.sha256, size: t.data.length, url: `/f/${t.sha256}` }
  }

  it('100 % full: plays are still recorded (the reserve), nothing crashes, and the pending state applies by itself once room returns', async () => {
    const ctx = setup(1)
    const { dataDir, agent, publish, plays, events } = ctx
    await agent.start()
    await waitFor(() => existsSync(join(dataDir, 'disk-reserve')), 10_000, 'the reserve')
    const { a, times, schedule } = await threePlays(ctx, 'full', 440, 6_000)

    const filler = fillDisk(dataDir)
    expect(freeBytes(dataDir)).toBeLessThan(4096)
    // A new state arrives while the disk is full: its new audio cannot be downloaded now.
    const b = audio(2, 660)
    publish({
      ...desired(2, [a, b]),
      deviceId: 'pi-full',
      schedule: [...schedule, once('later', at(600_000), b.sha256)],
    })
    // The three occurrences play, and each is recorded.
    await waitFor(() => plays().length >= 3, 30_000, 'three plays recorded')
    expect(plays()).toEqual(times.map((_, i) => ({ schedule_id: `full-${i}`, status: 'played' })))
    expect(events('disk-full')).toHaveLength(1)
    expect(existsSync(join(dataDir, 'disk-reserve'))).toBe(false)
    expect(agent.store.applied()?.version).toBe(1)

    // Room again: the reserve is set aside again and v2 is applied without any command.
    unlinkSync(filler)
    await waitFor(() => agent.store.applied()?.version === 2, 20_000, 'v2 applied by itself')
    expect(existsSync(join(dataDir, 'disk-reserve'))).toBe(true)
    expect(events('disk-space-recovered')).toHaveLength(1)
    await agent.stop()
  })

  it('full without a reserve: every play is still accounted for (in memory), and written once room returns', async () => {
    const ctx = setup(0)
    const { dataDir, agent, plays } = ctx
    await agent.start()
    const { times } = await threePlays(ctx, 'bare', 520, 5_000)
    const held = await accountedThenWritten(agent, times[2] as string, fillDisk(dataDir))
    expect(plays()).toEqual(times.map((_, i) => ({ schedule_id: `bare-${i}`, status: 'played' })))
    expect(agent.scheduler.plays.unwritten).toBe(0)
    // They did wait in memory: with no reserve there was no room for them at the time.
    expect(held).toBeGreaterThan(0)
    await agent.stop()
  })

  it('starting on a disk that is already full (a reboot): the agent starts, plays and records its plays', async () => {
    const first = setup(1)
    await first.agent.start()
    await waitFor(() => existsSync(join(first.dataDir, 'disk-reserve')), 10_000, 'the reserve')
    const { times } = await threePlays(first, 'boot', 600, 8_000)
    await first.agent.stop()
    const filler = fillDisk(first.dataDir)
    // The box reboots with its disk full.
    const agent = new Agent(first.agent.config, silentLog)
    await agent.start()
    await accountedThenWritten(agent, times[2] as string, filler)
    // It had to give its reserve up to open the database: set aside again once there is room.
    await waitFor(() => existsSync(join(first.dataDir, 'disk-reserve')), 10_000, 'the reserve again')
    await agent.stop()
  })
})
