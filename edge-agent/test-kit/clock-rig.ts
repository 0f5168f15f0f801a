// Test-only: the scheduler and the alert manager on one SQLite file, driven by a clock the test steps.
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { type AlertSpec, Bands, type DesiredStateBody, type ScheduleEntry } from '@loa/shared'
import { AlertManager } from '../src/alerts/alerts.js'
import { Clock } from '../src/clock/clock.js'
import { SimulatedSync, type SyncState } from '../src/clock/sync.js'
import { DesiredStore } from '../src/desired/store.js'
import { LoggedAmpSwitch } from '../src/hardware/amp-switch.js'
import { Outbox } from '../src/link/outbox.js'
import { MediaCache } from '../src/media/cache.js'
import { parseOutput } from '../src/playback/audio-output.js'
import { Player } from '../src/playback/player.js'
import { Scheduler } from '../src/schedule/scheduler.js'
import { type Db, kvGet, kvSet, openDb } from '../src/storage/db.js'
import { SteppedTime } from './clock-fakes.js'
import { silentLog, tmp, tone } from './test-helpers.js'

export interface PlayRow {
  schedule_id: string | null
  sha256: string
  status: string
  reason: string | null
  occurrence: string | null
  started_at: string | null
  ended_at: string | null
  relay_on_at: string | null
  relay_off_at: string | null
  duration_ms: number
}

/** A `once` entry at `at` (whole seconds, as the control plane sends them). */
export const onceAt = (id: string, at: number, items: string[], priority = 50): ScheduleEntry => ({
  id,
  title: id,
  level: 'normal',
  priority,
  items,
  recurrence: {
    kind: 'once',
    at: new Date(Math.round(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
  },
})

/** The instant a `once` entry built by onceAt plays. */
export const instantOf = (e: ScheduleEntry) =>
  e.recurrence.kind === 'once' ? Date.parse(e.recurrence.at) : NaN

/** `previousRun`: what the run before the power cut left (its scheduler cursor, its persisted signed-time floor). */
export function clockRig(o: {
  offsetMs: number
  sync: SyncState
  lateMs?: number
  previousRun?: { cursor: number; floor?: number }
}) {
  const dataDir = tmp()
  const db: Db = openDb(join(dataDir, 'agent.db'))
  if (o.previousRun) {
    kvSet(db, 'scheduler.cursor', new Date(o.previousRun.cursor).toISOString())
    if (o.previousRun.floor) kvSet(db, 'signed_time_floor', String(o.previousRun.floor))
  }
  const time = new SteppedTime(o.offsetMs)
  const sync = new SimulatedSync(o.sync)
  const clock = new Clock({ db, time, sync, syncPollMs: 0 })
  const outbox = new Outbox(db, { now: () => clock.now() })
  const cache = new MediaCache(db, join(dataDir, 'media'), outbox)
  const store = new DesiredStore(db)
  const ampSwitch = new LoggedAmpSwitch(db)
  const hooks = {
    started: (a: Parameters<AlertManager['started']>[0]) => alerts.started(a),
    finished: (a: Parameters<AlertManager['started']>[0], played: number, failures: string[]) =>
      alerts.finished(a, played, failures),
  }
  const sched = new Scheduler({
    db,
    outbox,
    cache,
    ampSwitch,
    log: silentLog,
    player: new Player(parseOutput('null'), 'ffmpeg', {}, clock),
    desired: () => store.received()?.body ?? null,
    defaultTimezone: 'Asia/Ho_Chi_Minh',
    prerollMs: 200,
    postrollMs: 200,
    lateToleranceMs: o.lateMs ?? 2000,
    tickMs: 100,
    clock,
    alertHooks: hooks,
    durationOf: (sha) => alerts.durationOf(sha),
  })
  const alerts: AlertManager = new AlertManager({
    db,
    outbox,
    cache,
    log: silentLog,
    fetch: async () => {
      throw new Error('media are cached beforehand in these tests')
    },
    enqueue: (q) => sched.enqueueAlert(q),
    withdraw: (id, reason) => sched.withdrawAlert(id, reason),
    volume: () => 100,
    clock,
  })
  /** A real Opus tone in the cache. */
  const media = (seconds: number, freq = 440) => {
    const t = tone(dataDir, seconds, freq)
    copyFileSync(t.path, cache.path(t.sha256))
    cache.markReady(t.sha256, t.data.length)
    return {
      sha256: t.sha256,
      size: t.data.length,
      url: `/m/${t.sha256}`,
      mime: 'audio/ogg',
      durationMs: seconds * 1000,
    }
  }
  const state = (schedule: ScheduleEntry[], shas: string[]): DesiredStateBody => ({
    deviceId: 'pi-clock',
    version: 1,
    generatedAt: '2026-01-01T00:00:00Z',
    timezone: 'Asia/Ho_Chi_Minh',
    units: [],
    volume: 90,
    media: shas.map((sha) => ({
      sha256: sha,
      size: 1,
      url: `/m/${sha}`,
      mime: 'audio/ogg',
      durationMs: 1000,
    })),
    schedule,
    fallback: null,
  })
  const alert = (item: ReturnType<typeof media>, startsAt: number, expiresAt: number): AlertSpec => ({
    alertId: `al-${Math.random().toString(36).slice(2, 10)}`,
    revision: 1,
    ackId: `ack-${Math.random().toString(36).slice(2, 12)}`,
    title: 'flood warning',
    level: 'emergency',
    priority: Bands.emergency,
    items: [item],
    repeat: 1,
    startsAt: new Date(startsAt).toISOString(),
    expiresAt: new Date(expiresAt).toISOString(),
    audible: true,
  })
  const outboxBodies = (channel: string) =>
    (
      db.prepare('SELECT body FROM outbox WHERE channel = ? ORDER BY seq').all(channel) as { body: string }[]
    ).map((r) => JSON.parse(r.body) as Record<string, unknown>)
  return {
    dataDir,
    kvGet: (key: string) => kvGet(db, key),
    kvSet: (key: string, value: string) => kvSet(db, key, value),
    time,
    sync,
    clock,
    outbox,
    store,
    sched,
    alerts,
    media,
    state,
    alert,
    plays: () => db.prepare('SELECT * FROM plays ORDER BY seq').all() as PlayRow[],
    playsOf: (id: string) =>
      (db.prepare('SELECT * FROM plays ORDER BY seq').all() as PlayRow[]).filter((p) => p.schedule_id === id),
    stages: (ackId: string) =>
      outboxBodies('ack')
        .filter((a) => a.commandId === ackId)
        .map((a) => a.stage),
    events: (kind: string) => outboxBodies('event').filter((e) => e.kind === kind),
    start() {
      clock.start()
      sched.start()
      alerts.start()
    },
    async stop() {
      alerts.stop()
      await sched.stop()
      clock.stop()
      db.close()
    },
  }
}
