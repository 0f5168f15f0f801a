import { copyFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DesiredStateBody, ScheduleEntry } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { describe, expect, it } from 'vitest'
import { sha256, silentLog, tmp, tone } from '../../test-kit/test-helpers.js'
import { DesiredStore } from '../desired/store.js'
import { LoggedAmpSwitch } from '../hardware/amp-switch.js'
import { Outbox } from '../link/outbox.js'
import { MediaCache } from '../media/cache.js'
import { parseOutput } from '../playback/audio-output.js'
import { Player } from '../playback/player.js'
import { type Db, kvSet, openDb } from '../storage/db.js'
import { Scheduler } from './scheduler.js'

const PRE = 300
const POST = 500
const noMs = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z')

interface PlayRow {
  schedule_id: string | null
  sha256: string
  status: string
  reason: string | null
  fallback: number
  occurrence: string | null
  relay_on_at: string
  started_at: string
  ended_at: string
  relay_off_at: string
}

function setup(dataDir = tmp(), graceMs = 600_000) {
  const db = openDb(join(dataDir, 'agent.db'))
  const outbox = new Outbox(db)
  const cache = new MediaCache(db, join(dataDir, 'media'), outbox)
  const store = new DesiredStore(db)
  const ampSwitch = new LoggedAmpSwitch(db)
  const out = join(dataDir, 'out')
  const sched = new Scheduler({
    db,
    outbox,
    cache,
    ampSwitch,
    log: silentLog,
    player: new Player(parseOutput(`file:${out}`)),
    desired: () => store.received()?.body ?? null,
    defaultTimezone: 'Asia/Ho_Chi_Minh',
    prerollMs: PRE,
    postrollMs: POST,
    lateToleranceMs: 60_000,
    graceMs,
    tickMs: 100,
  })
  const plays = () => db.prepare('SELECT * FROM plays ORDER BY seq').all() as PlayRow[]
  const ampSwitchLog = () =>
    db.prepare('SELECT at, "on" FROM relay_log ORDER BY seq').all() as { at: string; on: number }[]
  return { db, outbox, cache, store, ampSwitch, sched, plays, ampSwitchLog, out, dataDir }
}

function cacheFile(cache: MediaCache, path: string, data: Buffer): string {
  const sha = sha256(data)
  copyFileSync(path, cache.path(sha))
  cache.markReady(sha, data.length)
  return sha
}

function state(
  schedule: ScheduleEntry[],
  media: string[],
  fallback: DesiredStateBody['fallback'] = null,
): DesiredStateBody {
  return {
    deviceId: 'pi-s',
    version: 1,
    generatedAt: '2026-01-01T00:00:00Z',
    timezone: 'Asia/Ho_Chi_Minh',
    units: [],
    volume: 90,
    media: media.map((sha) => ({ sha256: sha, size: 1, url: `/m/${sha}`, mime: 'audio/ogg', durationMs: 1 })),
    schedule,
    fallback,
  }
}

const entry = (id: string, at: Date, items: string[], priority = 50): ScheduleEntry => ({
  id,
  title: id,
  level: 'normal',
  priority,
  items,
  recurrence: { kind: 'once', at: noMs(at) },
})

async function close(s: ReturnType<typeof setup>, db: Db) {
  await s.sched.stop()
  db.close()
}

describe('scheduler + player (real ffmpeg, file sink)', () => {
  it('starts an occurrence a couple of seconds ahead on time, amplifier on before audio and off after end + post-roll', async () => {
    const s = setup()
    const t = tone(s.dataDir, 1)
    const sha = cacheFile(s.cache, t.path, t.data)
    const at = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000)
    at.setMilliseconds(0)
    s.store.saveReceived(state([entry('news', at, [sha])], [sha]))
    s.sched.start()
    const [p] = await waitFor(() => (s.plays().length > 0 ? s.plays() : null), 15_000, 'play')
    expect(p).toMatchObject({ schedule_id: 'news', status: 'played', sha256: sha })
    const started = Date.parse(p?.started_at as string)
    expect(Math.abs(started - at.getTime())).toBeLessThan(1000)
    const log = s.ampSwitchLog()
    expect(log.map((r) => r.on)).toEqual([1, 0])
    expect(Date.parse(log[0]?.at as string)).toBeLessThanOrEqual(started - PRE + 50)
    expect(Date.parse(log[1]?.at as string)).toBeGreaterThanOrEqual(
      Date.parse(p?.ended_at as string) + POST - 20,
    )
    expect(Date.parse(p?.ended_at as string) - started).toBeGreaterThanOrEqual(950) // real time
    expect(readdirSync(s.out).filter((f) => f.endsWith('.wav'))).toHaveLength(1)
    expect(s.ampSwitch.isOn()).toBe(false)
    await close(s, s.db)
  })

  it('a corrupt item and an undecodable one are reported, and the good one still plays', async () => {
    const s = setup()
    const good = tone(s.dataDir, 1, 660)
    const goodSha = cacheFile(s.cache, good.path, good.data)
    // Undecodable: the hash is right, ffmpeg refuses it.
    const junk = Buffer.from('this is not audio at all '.repeat(40))
    const junkPath = join(s.dataDir, 'junk')
    writeFileSync(junkPath, junk)
    const junkSha = cacheFile(s.cache, junkPath, junk)
    // Corrupt: the cache says ready, the bytes do not match the name.
    const other = tone(s.dataDir, 1, 880)
    const corruptSha = sha256(other.data)
    copyFileSync(good.path, s.cache.path(corruptSha))
    s.cache.markReady(corruptSha, good.data.length)
    const at = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000)
    s.store.saveReceived(
      state([entry('mix', at, [junkSha, corruptSha, goodSha])], [junkSha, corruptSha, goodSha]),
    )
    s.sched.start()
    const rows = await waitFor(() => (s.plays().length >= 3 ? s.plays() : null), 20_000, '3 plays')
    expect(rows.map((r) => [r.sha256, r.status])).toEqual([
      [junkSha, 'failed'],
      [corruptSha, 'failed'],
      [goodSha, 'played'],
    ])
    expect(rows[0]?.reason).toMatch(/ffmpeg exited/)
    expect(rows[1]?.reason).toMatch(/corrupt/)
    expect(s.cache.get(corruptSha)?.state).toBe('corrupt')
    // One amplifier-on period for the whole occurrence: the amplifier held between items.
    expect(s.ampSwitchLog().map((r) => r.on)).toEqual([1, 0])
    const kinds = (
      s.db.prepare("SELECT body FROM outbox WHERE channel = 'event'").all() as { body: string }[]
    ).map((r) => JSON.parse(r.body).kind)
    expect(kinds.filter((k) => k === 'item-skipped')).toHaveLength(2)
    expect(kinds).toContain('media-corrupt')
    expect(kinds).toContain('player-error')
    await close(s, s.db)
  })

  it('after a restart, occurrences missed while down are reported skipped; one a few seconds late still plays', async () => {
    const dataDir = tmp()
    const s = setup(dataDir)
    const t = tone(dataDir, 1)
    const sha = cacheFile(s.cache, t.path, t.data)
    const now = Date.now()
    s.store.saveReceived(
      state(
        [
          entry('long-ago', new Date(now - 5 * 60_000), [sha]),
          entry('just-now', new Date(now - 2000), [sha]),
        ],
        [sha],
      ),
    )
    // The agent last ran ten minutes ago.
    kvSet(s.db, 'scheduler.cursor', new Date(now - 10 * 60_000).toISOString())
    s.sched.start()
    const rows = await waitFor(() => (s.plays().length >= 2 ? s.plays() : null), 15_000, 'two reports')
    expect(rows.map((r) => [r.schedule_id, r.status, r.reason])).toEqual([
      ['long-ago', 'skipped', 'missed'],
      ['just-now', 'played', null],
    ])
    await close(s, s.db)
    // Restarting again neither re-reports nor re-plays them.
    const s2 = setup(dataDir)
    s2.sched.start()
    await new Promise((r) => setTimeout(r, 800))
    expect(s2.plays()).toHaveLength(2)
    await close(s2, s2.db)
  })

  it('fallback fills the window; a scheduled occurrence interrupts it and takes over', async () => {
    const s = setup()
    const filler = tone(s.dataDir, 6, 300)
    const fillSha = cacheFile(s.cache, filler.path, filler.data)
    const news = tone(s.dataDir, 1, 500)
    const newsSha = cacheFile(s.cache, news.path, news.data)
    const all = [1, 2, 3, 4, 5, 6, 7]
    const at = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000)
    s.store.saveReceived(
      state([entry('news', at, [newsSha])], [fillSha, newsSha], {
        items: [fillSha],
        windows: [{ daysOfWeek: all, from: '00:00', until: '23:59:59' }],
      }),
    )
    s.sched.start()
    const rows = await waitFor(
      () => (s.plays().some((r) => r.schedule_id === 'news') ? s.plays() : null),
      20_000,
      'news report',
    )
    const fb = rows.find((r) => r.fallback === 1)
    const played = rows.find((r) => r.schedule_id === 'news')
    expect(fb).toMatchObject({ status: 'interrupted', sha256: fillSha, occurrence: null })
    expect(played).toMatchObject({ status: 'played' })
    expect(Math.abs(Date.parse(played?.started_at as string) - at.getTime())).toBeLessThan(1000)
    await close(s, s.db)
  })

  it('several due at once: highest priority first, the rest queued; one past the grace period is skipped', async () => {
    // Grace 4.5 s, items 3 s: mid starts about 3.4 s late (inside), low about 6.7 s late (outside), with a second
    // or more of margin either way for ffmpeg spawns on a loaded machine.
    const s = setup(tmp(), 4500)
    const t = tone(s.dataDir, 3)
    const sha = cacheFile(s.cache, t.path, t.data)
    const at = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000)
    s.store.saveReceived(
      state([entry('low', at, [sha], 40), entry('mid', at, [sha], 50), entry('high', at, [sha], 100)], [sha]),
    )
    s.sched.start()
    const rows = await waitFor(() => (s.plays().length >= 3 ? s.plays() : null), 30_000, 'three reports')
    const by = (id: string) => rows.find((r) => r.schedule_id === id)
    expect(by('low')).toMatchObject({ status: 'skipped', reason: 'grace-expired' })
    expect(by('high')?.status).toBe('played')
    expect(by('mid')?.status).toBe('played')
    expect(Date.parse(by('mid')?.started_at as string)).toBeGreaterThanOrEqual(
      Date.parse(by('high')?.ended_at as string),
    )
    expect(Math.abs(Date.parse(by('high')?.started_at as string) - at.getTime())).toBeLessThan(1000)
    await close(s, s.db)
  })

  it('a weekly entry with two local times a few seconds apart plays both (local Asia/Ho_Chi_Minh wall clock)', async () => {
    const s = setup()
    const t = tone(s.dataDir, 1)
    const sha = cacheFile(s.cache, t.path, t.data)
    const first = Math.ceil((Date.now() + 2000) / 1000) * 1000
    // Vietnam is UTC+7 all year: local wall-clock time is UTC + 7 h.
    const local = (ms: number) => new Date(ms + 7 * 3600_000).toISOString()
    const day = local(first).slice(0, 10)
    const isoDay = new Date(`${day}T00:00:00Z`).getUTCDay() || 7
    const e: ScheduleEntry = {
      ...entry('weekly', new Date(first), [sha]),
      recurrence: {
        kind: 'weekly',
        daysOfWeek: [isoDay],
        times: [local(first).slice(11, 19), local(first + 3000).slice(11, 19)],
        startDate: day,
        endDate: day,
      },
    }
    s.store.saveReceived(state([e], [sha]))
    s.sched.start()
    const rows = await waitFor(() => (s.plays().length >= 2 ? s.plays() : null), 15_000, 'two plays')
    expect(rows.map((r) => [r.status, Date.parse(r.occurrence as string)])).toEqual([
      ['played', first],
      ['played', first + 3000],
    ])
    for (const r of rows)
      expect(Math.abs(Date.parse(r.started_at) - Date.parse(r.occurrence as string))).toBeLessThan(1000)
    await close(s, s.db)
  })

  it('holds the amplifier on when the next play starts within the post-roll', async () => {
    const s = setup()
    const t = tone(s.dataDir, 1)
    const sha = cacheFile(s.cache, t.path, t.data)
    const a = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000)
    const b = new Date(a.getTime() + 1500) // A ends about 1.1 s after a: B starts 0.4 s later, inside the post-roll
    s.store.saveReceived(
      state(
        [
          entry('a', a, [sha]),
          { ...entry('b', b, [sha]), recurrence: { kind: 'once', at: b.toISOString() } },
        ],
        [sha],
      ),
    )
    s.sched.start()
    const rows = await waitFor(() => (s.plays().length >= 2 ? s.plays() : null), 15_000, 'two plays')
    expect(rows.map((r) => [r.schedule_id, r.status])).toEqual([
      ['a', 'played'],
      ['b', 'played'],
    ])
    expect(s.ampSwitchLog().map((r) => r.on)).toEqual([1, 0])
    expect(rows[0]?.relay_off_at).toBe(rows[1]?.relay_off_at)
    // B starts at its time, or as soon as A has ended if A ran late (ffmpeg spawns slowly on a loaded machine).
    const bStart = Date.parse(rows[1]?.started_at as string)
    const bDue = Math.max(b.getTime(), Date.parse(rows[0]?.ended_at as string))
    expect(bStart).toBeGreaterThanOrEqual(b.getTime() - 300)
    expect(bStart - bDue).toBeLessThan(1000)
    await close(s, s.db)
  })

  it('a desired state arriving a few seconds after its occurrence still plays it, once', async () => {
    const s = setup()
    const t = tone(s.dataDir, 1)
    const sha = cacheFile(s.cache, t.path, t.data)
    s.sched.start()
    await new Promise((r) => setTimeout(r, 300))
    const at = new Date(Math.floor((Date.now() - 3000) / 1000) * 1000)
    s.store.saveReceived(state([entry('late', at, [sha])], [sha]))
    s.sched.desiredChanged()
    const rows = await waitFor(() => (s.plays().length > 0 ? s.plays() : null), 10_000, 'late play')
    expect(rows.map((r) => [r.schedule_id, r.status])).toEqual([['late', 'played']])
    // The same state again (e.g. re-published): not played twice.
    s.store.saveReceived({ ...state([entry('late', at, [sha])], [sha]), version: 2 })
    s.sched.desiredChanged()
    await new Promise((r) => setTimeout(r, 800))
    expect(s.plays()).toHaveLength(1)
    await close(s, s.db)
  })

  it('an occurrence with no playable media is reported skipped without switching the amplifier on', async () => {
    const s = setup()
    const missing = sha256(Buffer.from('not downloaded yet'))
    s.cache.ensure(missing, 100)
    const at = new Date(Math.ceil((Date.now() + 1000) / 1000) * 1000)
    s.store.saveReceived(state([entry('nothing', at, [missing])], [missing]))
    s.sched.start()
    const rows = await waitFor(() => (s.plays().length > 0 ? s.plays() : null), 10_000, 'skip report')
    expect(rows.map((r) => [r.status, r.reason])).toEqual([['skipped', 'media not ready (missing)']])
    expect(s.ampSwitchLog()).toEqual([])
    await close(s, s.db)
  })
})
