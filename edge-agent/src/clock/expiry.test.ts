import { join } from 'node:path'
import { waitFor } from '@loa/testkit'
import { describe, expect, it } from 'vitest'
import { SteppedTime } from '../../test-kit/clock-fakes.js'
import { clockRig } from '../../test-kit/clock-rig.js'
import { silentLog, tmp } from '../../test-kit/test-helpers.js'
import { LoggedAmpSwitch } from '../hardware/amp-switch.js'
import { Commands } from '../link/commands.js'
import { Outbox } from '../link/outbox.js'
import { Telemetry } from '../link/telemetry.js'
import { parseOutput } from '../playback/audio-output.js'
import { LiveManager } from '../relays/live.js'
import type { Scheduler } from '../schedule/scheduler.js'
import { openDb } from '../storage/db.js'
import { Clock } from './clock.js'
import { watchClock } from './events.js'
import { SimulatedSync } from './sync.js'

// Instants derive from the real clock at run time; the rig's wall clock is real + the offset the test sets.
const H = 3600_000
const iso = (ms: number) => new Date(ms).toISOString()

describe('expiry, uptime and reports on a wrong clock (injected clock, real SQLite, real ffmpeg)', () => {
  it('an emergency received while the clock is 2 h ahead and unsynced plays; a trusted clock is believed', async () => {
    const r = clockRig({ offsetMs: 2 * H, sync: 'unsynced' })
    const m = r.media(1)
    r.start()
    const real = Date.now()
    // The command carrying it was signed now (its sentAt raised the floor); it expires in 10 min.
    r.clock.vouch(real)
    const al = r.alert(m, real - 1000, real + 600_000)
    expect(r.alerts.receive(al, 'cmd', iso(real + 60_000))).toBe('new')
    await waitFor(() => r.stages(al.ackId).includes('done'), 15_000, 'alert done')
    expect(r.stages(al.ackId)).toEqual(['received', 'playing', 'done'])
    // The play report is written once the amplifier is off again.
    await waitFor(() => r.playsOf(al.alertId).length > 0, 5000, 'play report')
    expect(r.playsOf(al.alertId).map((p) => p.status)).toEqual(['played'])
    await r.stop()

    // The same clock, trusted (NTP says synced): by it the alert is past, and it is refused as expired.
    const t = clockRig({ offsetMs: 2 * H, sync: 'synced' })
    const m2 = t.media(1)
    t.start()
    t.clock.vouch(Date.now())
    const al2 = t.alert(m2, Date.now() - 1000, Date.now() + 600_000)
    t.alerts.receive(al2, 'cmd', iso(Date.now() + 60_000))
    expect(t.stages(al2.ackId)).toEqual(['expired'])
    await t.stop()
  })

  it('an alert playing when the untrusted clock jumps 2 h forward is not cut short as expired', async () => {
    const r = clockRig({ offsetMs: 0, sync: 'unsynced' })
    const m = r.media(3)
    r.start()
    r.clock.vouch(Date.now())
    const al = r.alert(m, Date.now() - 1000, Date.now() + 600_000)
    r.alerts.receive(al, 'cmd', iso(Date.now() + 60_000))
    await waitFor(() => r.stages(al.ackId).includes('playing'), 10_000, 'alert playing')
    r.time.step(2 * H)
    await waitFor(() => r.stages(al.ackId).length > 2, 15_000, 'alert over')
    expect(r.stages(al.ackId)).toEqual(['received', 'playing', 'done'])
    await waitFor(() => r.playsOf(al.alertId).length > 0, 5000, 'play report')
    expect(r.playsOf(al.alertId)[0]?.duration_ms).toBeGreaterThanOrEqual(2900)
    await r.stop()
  })

  it('a command is expired only past a time certainly reached: not by a clock that may be 2 h ahead', async () => {
    const db = openDb(join(tmp(), 'agent.db'))
    const outbox = new Outbox(db)
    const clock = new Clock({ db, time: new SteppedTime(2 * H), sync: new SimulatedSync('unsynced') })
    const commands = new Commands(db, outbox, silentLog, { resync: async () => {}, clock })
    const acks = (id: string) =>
      (db.prepare("SELECT body FROM outbox WHERE channel = 'ack'").all() as { body: string }[])
        .map((r) => JSON.parse(r.body) as { commandId: string; stage: string; at: string })
        .filter((a) => a.commandId === id)
    const toBox = { devices: ['c-clock'], units: [] }
    const real = Date.now()
    clock.vouch(real) // the command's signed sentAt
    await commands.handle(
      { commandId: 'ping-ahead-01', kind: 'ping', recipients: toBox, deadline: iso(real + 60_000) },
      'cmd',
    )
    expect(acks('ping-ahead-01').map((a) => a.stage)).toEqual(['received', 'done'])
    // One whose deadline is before the signed time is expired whatever the clock.
    await commands.handle(
      { commandId: 'ping-stale-01', kind: 'ping', recipients: toBox, deadline: iso(real - 1000) },
      'cmd',
    )
    expect(acks('ping-stale-01').map((a) => a.stage)).toEqual(['expired'])
    db.close()
  })

  it('uptime is monotonic and telemetry carries the clock state and its last jump', async () => {
    const db = openDb(join(tmp(), 'agent.db'))
    const time = new SteppedTime(0)
    const clock = new Clock({ db, time, sync: new SimulatedSync('unsynced') })
    const outbox = new Outbox(db)
    const telemetry = new Telemetry({
      outbox,
      dataDir: tmp(),
      ampSwitch: new LoggedAmpSwitch(db),
      scheduler: { nowPlaying: null } as unknown as Scheduler, // only nowPlaying is read
      agentVersion: 'test',
      intervalS: 3600,
      clock,
    })
    await new Promise((r) => setTimeout(r, 50))
    time.step(-2 * H)
    const s = await telemetry.sample()
    expect(s.uptimeS).toBeGreaterThanOrEqual(0.04)
    expect(s.uptimeS).toBeLessThan(60)
    expect(s.clock).toMatchObject({ state: 'unsynced', jumps: 1, lastJumpMs: expect.any(Number) })
    expect(s.clock?.lastJumpMs).toBeLessThan(-2 * H + 1000)
    clock.vouch(Date.now())
    expect((await telemetry.sample()).clock).toMatchObject({ state: 'behind-signed-time' })
    db.close()
  })

  it('after a step back, messages published before it are sent again at once (their sent_at is in the future)', async () => {
    const db = openDb(join(tmp(), 'agent.db'))
    const time = new SteppedTime(0)
    const clock = new Clock({ db, time, sync: new SimulatedSync('synced') })
    const outbox = new Outbox(db, { now: () => clock.now() })
    watchClock(clock, { outbox, log: silentLog, flush: () => {} })
    for (let i = 0; i < 3; i++) outbox.event('test', 'info', `event ${i}`)
    const wallNow = () => new Date(clock.wall())
    expect(outbox.takeDue(wallNow())).toHaveLength(3) // published, no receipt yet
    time.step(-2 * H)
    clock.now()
    await new Promise((r) => setImmediate(r))
    const again = outbox
      .takeDue(wallNow())
      .map((e) => e.body as { kind: string; message: string; data?: unknown })
    // The three published before the step, and what the step itself caused (the jump, the first state seen).
    expect(again.filter((e) => e.kind === 'test').map((e) => e.message)).toEqual([
      'event 0',
      'event 1',
      'event 2',
    ])
    const jumped = again.find((e) => e.kind === 'clock-jumped') as { data: { deltaMs: number } } | undefined
    expect(jumped).toMatchObject({ severity: 'warning', data: { state: 'synced' } })
    expect(jumped?.data.deltaMs).toBeLessThan(-2 * H + 1000)
    db.close()
  })

  it('a live relay started by the province while the clock is 2 h ahead and unsynced is carried out, not expired', async () => {
    const db = openDb(join(tmp(), 'agent.db'))
    const outbox = new Outbox(db)
    const clock = new Clock({ db, time: new SteppedTime(2 * H), sync: new SimulatedSync('unsynced') })
    const lives = new LiveManager({
      db,
      outbox,
      log: silentLog,
      output: parseOutput('null'),
      enqueue: () => {},
      withdraw: () => {},
      desired: () => null,
      defaultTimezone: 'Asia/Ho_Chi_Minh',
      volume: () => 100,
      clock,
      retryBaseMs: 60_000,
    })
    const real = Date.now()
    clock.vouch(real) // the live-start's signed sentAt
    const spec = {
      liveId: 'vov1-clock',
      revision: 1,
      ackId: 'ack-live-clock-1',
      title: 'VOV1',
      sourceUrl: 'http://127.0.0.1:9/live.mp3',
      priority: 60,
      startsAt: iso(real - 1000),
      endsAt: iso(real + 30 * 60_000),
    }
    lives.start()
    expect(lives.receive(spec, 'cmd', iso(real + 60_000))).toBe('new')
    await new Promise((r) => setTimeout(r, 700)) // a few end checks: still on
    const stages = (db.prepare("SELECT body FROM outbox WHERE channel = 'ack'").all() as { body: string }[])
      .map((r) => JSON.parse(r.body) as { commandId: string; stage: string })
      .filter((a) => a.commandId === spec.ackId)
      .map((a) => a.stage)
    // Received and carried out (its source is dead here, so the attempt fails and is retried), never expired/ended.
    expect(stages[0]).toBe('received')
    expect(stages.filter((x) => x === 'expired' || x === 'done')).toEqual([])
    expect(db.prepare('SELECT state FROM lives WHERE live_id = ?').get(spec.liveId)).toEqual({
      state: 'active',
    })
    lives.stop()
    db.close()
  })
})
