import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Bands, type DesiredStateBody, type PreemptPolicy, type ScheduleEntry } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { beforeAll, describe, expect, it } from 'vitest'
import { silentLog, testAgentConfig, tmp, tone } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'
import { DesiredStore } from '../desired/store.js'
import { LoggedAmpSwitch } from '../hardware/amp-switch.js'
import { Outbox } from '../link/outbox.js'
import { MediaCache } from '../media/cache.js'
import { parseOutput } from '../playback/audio-output.js'
import { Player } from '../playback/player.js'
import { openDb } from '../storage/db.js'
import { Arbiter } from './arbiter.js'
import { Scheduler } from './scheduler.js'

const PRE = 300
const POST = 400
const noMs = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z')

/** Every band, lowest first; the last is a higher emergency. */
const LADDER: [string, number][] = [
  ['fallback', Bands.fallback],
  ['normal', Bands.normal],
  ['relay', Bands.relay],
  ['communePriority', Bands.communePriority],
  ['priority', Bands.priority],
  ['localAnnouncement', Bands.localAnnouncement],
  ['emergency', Bands.emergency],
  ['higherEmergency', 230],
]

interface PlayRow {
  schedule_id: string | null
  status: string
  reason: string | null
  fallback: number
  priority: number
  duration_ms: number
  started_at: string | null
  ended_at: string | null
}

let media: { long: { path: string; sha256: string; size: number }; short: typeof media.long }

beforeAll(() => {
  const dir = tmp('loa-preempt-media-')
  const long = tone(dir, 4, 440)
  const short = tone(dir, 1, 880)
  media = {
    long: { path: long.path, sha256: long.sha256, size: long.data.length },
    short: { path: short.path, sha256: short.sha256, size: short.data.length },
  }
})

function setup() {
  const dataDir = tmp('loa-preempt-')
  const db = openDb(join(dataDir, 'agent.db'))
  const outbox = new Outbox(db)
  const cache = new MediaCache(db, join(dataDir, 'media'), outbox)
  mkdirSync(cache.dir, { recursive: true })
  for (const m of [media.long, media.short]) {
    copyFileSync(m.path, cache.path(m.sha256))
    cache.markReady(m.sha256, m.size)
  }
  const store = new DesiredStore(db)
  const ampSwitch = new LoggedAmpSwitch(db)
  const sched = new Scheduler({
    db,
    outbox,
    cache,
    ampSwitch,
    log: silentLog,
    player: new Player(parseOutput('null')),
    desired: () => store.received()?.body ?? null,
    defaultTimezone: 'Asia/Ho_Chi_Minh',
    prerollMs: PRE,
    postrollMs: POST,
    tickMs: 100,
  })
  const plays = () =>
    db
      .prepare(
        'SELECT schedule_id, status, reason, fallback, priority, duration_ms, started_at, ended_at FROM plays ORDER BY seq',
      )
      .all() as PlayRow[]
  const ampSwitchLog = () =>
    (db.prepare('SELECT "on" FROM relay_log ORDER BY seq').all() as { on: number }[]).map((r) => r.on)
  /** Stops the scheduler, closes the db; returns the amplifier switch transitions. */
  const close = async () => {
    await sched.stop()
    const log = ampSwitchLog()
    db.close()
    return log
  }
  return { db, store, sched, plays, ampSwitchLog, close }
}

function state(schedule: ScheduleEntry[], fallback = false): DesiredStateBody {
  return {
    deviceId: 'pi-p',
    version: 1,
    generatedAt: '2026-01-01T00:00:00Z',
    timezone: 'Asia/Ho_Chi_Minh',
    units: [],
    volume: 80,
    media: [media.long, media.short].map((m) => ({
      sha256: m.sha256,
      size: m.size,
      url: `/m/${m.sha256}`,
      mime: 'audio/ogg',
      durationMs: 1000,
    })),
    schedule,
    fallback: fallback
      ? {
          items: [media.long.sha256],
          windows: [{ daysOfWeek: [1, 2, 3, 4, 5, 6, 7], from: '00:00', until: '24:00' }],
        }
      : null,
  }
}

const entry = (
  id: string,
  at: Date,
  sha: string,
  priority: number,
  onPreempt?: PreemptPolicy,
): ScheduleEntry => ({
  id,
  title: id,
  level: priority >= Bands.emergency ? 'emergency' : priority >= Bands.priority ? 'priority' : 'normal',
  priority,
  items: [sha],
  recurrence: { kind: 'once', at: noMs(at) },
  ...(onPreempt ? { onPreempt } : {}),
})

/** A whole second a little ahead, so `once` instants (whole seconds) are in the future. */
const soon = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 1000) * 1000)

/** `low` plays the 4 s item from t0; `high` (1 s item) is due 1 s later. */
async function pair(low: [string, number], high: [string, number], onPreempt?: PreemptPolicy) {
  const s = setup()
  const t0 = soon(1500)
  const schedule = [entry(high[0], new Date(t0.getTime() + 1000), media.short.sha256, high[1])]
  if (low[0] !== 'fallback') schedule.push(entry(low[0], t0, media.long.sha256, low[1], onPreempt))
  s.store.saveReceived(state(schedule, low[0] === 'fallback'))
  s.sched.start()
  return s
}

describe('arbiter decision matrix', () => {
  it('a higher band preempts every lower one; equal never; the fallback yields to anything scheduled', () => {
    for (const [, cur] of LADDER) {
      for (const [, due] of LADDER) {
        if (due === Bands.fallback) continue // the fallback programme is never queued
        const a = new Arbiter()
        a.push({
          key: 'k',
          scheduleId: 'x',
          title: 'x',
          level: 'normal',
          priority: due,
          at: new Date(0).toISOString(),
          items: [],
          volume: 1,
        })
        const hit =
          a.preemptor({ priority: cur, fallback: cur === Bands.fallback }, Date.now(), 0) !== undefined
        expect(hit, `${due} over ${cur}`).toBe(due > cur)
      }
    }
    // An emergency is not interrupted by priority or a local announcement.
    const a = new Arbiter()
    a.push({
      key: 'k',
      scheduleId: 'x',
      title: 'x',
      level: 'priority',
      priority: Bands.localAnnouncement,
      at: new Date(0).toISOString(),
      items: [],
      volume: 1,
    })
    expect(a.preemptor({ priority: Bands.emergency, fallback: false }, Date.now(), 0)).toBeUndefined()
  })
})

describe('preemption with real ffmpeg (null sink)', () => {
  it('every higher band interrupts every lower band at once, amplifier held on across it', async () => {
    const pairs: [[string, number], [string, number]][] = []
    for (let i = 0; i < LADDER.length; i++) {
      for (let j = i + 1; j < LADDER.length; j++)
        pairs.push([LADDER[i] as [string, number], LADDER[j] as [string, number]])
    }
    // Seven at a time: 28 pairs in parallel would overload a 2-core machine.
    for (let b = 0; b < pairs.length; b += 7) {
      const batch = pairs.slice(b, b + 7)
      const runs = await Promise.all(batch.map(([low, high]) => pair(low, high)))
      await Promise.all(
        runs.map((s, k) => {
          const [low, high] = batch[k] as [[string, number], [string, number]]
          return waitFor(
            () => s.plays().some((p) => p.schedule_id === high[0] && p.status === 'played'),
            20_000,
            `${high[0]} over ${low[0]}`,
          )
        }),
      )
      for (const [k, s] of runs.entries()) {
        const [low, high] = batch[k] as [[string, number], [string, number]]
        const isLow = (p: PlayRow) => (low[0] === 'fallback' ? p.fallback === 1 : p.schedule_id === low[0])
        const first = s.plays().find(isLow)
        expect(first, `${low[0]} reported`).toBeDefined()
        expect(first?.status, `${high[0]} over ${low[0]}`).toBe('interrupted')
        expect(first?.reason).toBe(`preempted by ${high[0]} (band ${high[1]})`)
        // A 4 s item cut after about 1 s (seven pairs of ffmpeg at once on 2 cores: spawns alone can take seconds,
        // so the bound only has to prove the cut came before the item's end).
        expect(first?.duration_ms).toBeLessThan(3600)
        // No gap longer than the pre-roll between the cut and the higher band's audio (generous on 2 cores).
        const next = s.plays().find((p) => p.schedule_id === high[0])
        const gap = Date.parse(next?.started_at as string) - Date.parse(first?.ended_at as string)
        expect(gap, `gap ${high[0]} over ${low[0]}`).toBeLessThan(PRE + 500)
        const switching = await s.close()
        expect(switching.slice(0, 2), `amplifier for ${high[0]} over ${low[0]}`).toEqual([1, 0])
      }
    }
  }, 180_000)

  it('an equal band never interrupts (it queues); an emergency is not interrupted by priority', async () => {
    const eq = await pair(['normal', Bands.normal], ['normal-2', Bands.normal])
    const em = await pair(['emergency', Bands.emergency], ['priority', Bands.priority])
    for (const [s, low, high] of [
      [eq, 'normal', 'normal-2'],
      [em, 'emergency', 'priority'],
    ] as const) {
      await waitFor(() => s.plays().some((p) => p.schedule_id === high), 20_000, `${high} after ${low}`)
      const rows = s.plays()
      expect(rows.map((p) => [p.schedule_id, p.status])).toEqual([
        [low, 'played'],
        [high, 'played'],
      ])
      expect(rows[0]?.duration_ms).toBeGreaterThanOrEqual(3800)
      await s.close()
    }
  }, 60_000)

  it('onPreempt: resume continues where it stopped, restart plays the item again, drop gives it up', async () => {
    const runs = await Promise.all(
      (['resume', 'restart', 'drop'] as const).map(async (policy) => ({
        policy,
        s: await pair(['normal', Bands.normal], ['priority', Bands.priority], policy),
      })),
    )
    for (const { policy, s } of runs) {
      if (policy === 'drop') {
        await waitFor(() => s.plays().some((p) => p.schedule_id === 'priority'), 20_000, 'priority')
        await new Promise((r) => setTimeout(r, 1500))
      } else {
        await waitFor(
          () => s.plays().filter((p) => p.schedule_id === 'normal').length >= 2,
          20_000,
          `${policy} second part`,
        )
      }
      const rows = s.plays()
      const normal = rows.filter((p) => p.schedule_id === 'normal')
      expect(normal[0]?.status).toBe('interrupted')
      expect(normal[0]?.reason).toBe(`preempted by priority (band ${Bands.priority})`)
      expect(rows.find((p) => p.schedule_id === 'priority')?.status).toBe('played')
      if (policy === 'drop') expect(normal).toHaveLength(1)
      else {
        expect(normal).toHaveLength(2)
        expect(normal[1]?.status).toBe('played')
        if (policy === 'resume') {
          expect(normal[1]?.duration_ms).toBeLessThan(3600)
          expect(normal[1]?.duration_ms).toBeGreaterThan(1000)
        } else expect(normal[1]?.duration_ms).toBeGreaterThanOrEqual(3800)
      }
      // One amplifier-on period: on before the first, off after the last.
      expect(await s.close()).toEqual([1, 0])
    }
  }, 60_000)
})

describe('offline preemption (whole agent, no broker at all)', () => {
  it('a stored desired state with overlapping normal and priority entries: the priority one preempts on time', async () => {
    const dataDir = tmp('loa-offline-preempt-')
    const db = openDb(join(dataDir, 'agent.db'))
    const outbox = new Outbox(db)
    const cache = new MediaCache(db, join(dataDir, 'media'), outbox)
    for (const m of [media.long, media.short]) {
      copyFileSync(m.path, cache.path(m.sha256))
      cache.markReady(m.sha256, m.size)
    }
    const t0 = soon(2500)
    const highAt = new Date(t0.getTime() + 1000)
    new DesiredStore(db).saveReceived({
      ...state([
        entry('normal', t0, media.long.sha256, Bands.normal, 'resume'),
        entry('priority', highAt, media.short.sha256, Bands.priority),
      ]),
      deviceId: 'pi-off',
    })
    db.close()
    const agent = new Agent(
      // Stored state was signed when received; no broker here, only a pinned key so the agent starts.
      testAgentConfig('pi-off', 'mqtt://127.0.0.1:9', {
        controlPlaneUrl: 'http://127.0.0.1:9',
        dataDir,
        prerollMs: PRE,
        postrollMs: POST,
        cacheBudgetMb: 50,
      }),
      silentLog,
    )
    await agent.start()
    try {
      const rows = await waitFor(
        () => {
          const r = agent.db
            .prepare('SELECT schedule_id, status, reason, started_at, ended_at FROM plays ORDER BY seq')
            .all() as { schedule_id: string; status: string; reason: string | null; started_at: string }[]
          return r.length >= 3 && r
        },
        20_000,
        'three reports',
      )
      expect(rows.map((r) => [r.schedule_id, r.status])).toEqual([
        ['normal', 'interrupted'],
        ['priority', 'played'],
        ['normal', 'played'],
      ])
      // On time: within a generous second of its instant.
      expect(Math.abs(Date.parse(rows[1]?.started_at as string) - highAt.getTime())).toBeLessThan(1000)
    } finally {
      await agent.stop()
    }
  }, 40_000)
})
