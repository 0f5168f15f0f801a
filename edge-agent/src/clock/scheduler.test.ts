import { waitFor } from '@loa/testkit'
import { describe, expect, it } from 'vitest'

import { clockRig, instantOf, onceAt } from '../../test-kit/clock-rig.js'

// Every instant derives from the real clock at run time (no fixed dates, no time zone dependence): `real` is the
// true time at the start of a test, the rig's wall clock is `real` + the offset the test steps.
const H = 3600_000
const DAY = 24 * H
const iso = (ms: number) => new Date(ms).toISOString()

describe('scheduler on a wrong clock (injected clock stepped in-process, real ffmpeg, real SQLite)', () => {
  it('booted 2 h ahead: no phantom "missed"; after NTP steps it back the schedule plays on time, nothing twice', async () => {
    const real = Date.now()
    // The previous run (right clock) took the schedule up to a minute ago and heard the control plane 5 s ago.
    const r = clockRig({
      offsetMs: 2 * H,
      sync: 'unsynced',
      previousRun: { cursor: real - 60_000, floor: real - 5000 },
    })
    const m = r.media(1)
    const e = {
      gone: onceAt('gone', real - 30_000, [m.sha256]), // during the power cut: really missed
      soon: onceAt('soon', real + 1000, [m.sha256]), // passes while the clock is wrong: missed, once known
      after1: onceAt('after1', real + 9000, [m.sha256]), // after the correction: plays on time
      after2: onceAt('after2', real + 12_000, [m.sha256]),
      later: onceAt('later', real + H, [m.sha256]), // an hour away on the true clock
      early: onceAt('early', real + 2 * H + 2000, [m.sha256]), // due by the wrong clock: plays (early)
    }
    r.store.saveReceived(r.state(Object.values(e), [m.sha256]))
    r.start()
    await waitFor(() => r.playsOf('early').length > 0, 15_000, 'early played by the wrong clock')
    // Only what is certainly past is reported: nothing the wrong clock merely says is past.
    expect(r.plays().map((p) => [p.schedule_id, p.status, p.reason])).toEqual([
      ['gone', 'skipped', 'missed'],
      ['early', 'played', null],
    ])
    // NTP synchronises, once `soon` is more than the late tolerance (2 s) past: the clock steps back two hours.
    await new Promise((res) => setTimeout(res, Math.max(0, instantOf(e.soon) + 2500 - Date.now())))
    r.sync.state = 'synced'
    r.time.step(-2 * H)
    await waitFor(() => r.playsOf('after2').length > 0, 25_000, 'after2 played')
    const byId = (id: string) => r.playsOf(id).map((p) => [p.status, p.reason])
    expect(byId('soon')).toEqual([['skipped', 'missed']])
    expect(byId('after1')).toEqual([['played', null]])
    expect(byId('after2')).toEqual([['played', null]])
    for (const id of ['after1', 'after2'] as const) {
      const started = Date.parse(r.playsOf(id)[0]?.started_at as string)
      expect(Math.abs(started - instantOf(e[id]))).toBeLessThan(1000)
    }
    expect(byId('gone')).toHaveLength(1)
    expect(byId('early')).toHaveLength(1)
    expect(byId('later')).toEqual([]) // still ahead: queued, not reported
    const pending = JSON.parse(r.kvGet('scheduler.pending') ?? '[]') as { scheduleId: string }[]
    expect(pending.map((q) => q.scheduleId)).toEqual(['later'])
    // The cursor follows the corrected clock (it is not left two hours ahead).
    expect(Date.parse(r.kvGet('scheduler.cursor') as string)).toBeLessThan(Date.now() + 60_000)
    await r.stop()
  })

  it('booted a day behind: plays by the signed time at once, not yesterday; after NTP steps it forward, no burst', async () => {
    const real = Date.now()
    // The previous run left its cursor a minute ago and a signed-time floor 30 s ago.
    const r = clockRig({
      offsetMs: -DAY,
      sync: 'unsynced',
      previousRun: { cursor: real - 60_000, floor: real - 30_000 },
    })
    const m = r.media(1)
    const e = {
      between: onceAt('between', real - 20_000, [m.sha256]), // during the outage: missed once a signed time says so
      news: onceAt('news', real + 3000, [m.sha256]),
      later: onceAt('later', real + 9000, [m.sha256]),
      yesterday: onceAt('yesterday', real - DAY + 3000, [m.sha256]), // "now" by the wrong wall clock
    }
    r.store.saveReceived(r.state(Object.values(e), [m.sha256]))
    r.start()
    // The control plane re-publishes the desired state when the box connects: a fresh signed time.
    r.clock.vouch(Date.now())
    expect(r.clock.state()).toBe('behind-signed-time')
    // An emergency alert arrives while the clock is a day behind: it plays at once.
    const al = r.alert(m, Date.now() - 1000, Date.now() + 600_000)
    r.alerts.receive(al, 'cmd', iso(Date.now() + 60_000))
    await waitFor(() => r.stages(al.ackId).includes('done'), 15_000, 'alert done')
    expect(r.stages(al.ackId)).toEqual(['received', 'playing', 'done'])
    await waitFor(() => r.playsOf('news').length > 0, 15_000, 'news played')
    expect(Math.abs(Date.parse(r.playsOf('news')[0]?.started_at as string) - instantOf(e.news))).toBeLessThan(
      1500,
    )
    // NTP synchronises: the clock steps a day forward. Nothing is caught up in a burst, nothing reported again.
    r.sync.state = 'synced'
    r.time.step(DAY)
    await waitFor(() => r.playsOf('later').length > 0, 20_000, 'later played')
    await new Promise((res) => setTimeout(res, 500))
    expect(r.plays().map((p) => [p.schedule_id, p.status, p.reason])).toEqual([
      ['between', 'skipped', 'missed'],
      [al.alertId, 'played', null],
      ['news', 'played', null],
      ['later', 'played', null],
    ])
    expect(
      Math.abs(Date.parse(r.playsOf('later')[0]?.started_at as string) - instantOf(e.later)),
    ).toBeLessThan(1000)
    await r.stop()
  })

  it('a play running when the clock steps back keeps a true, positive duration and an end after its start', async () => {
    const r = clockRig({ offsetMs: 0, sync: 'synced' })
    const m = r.media(2)
    const at = Math.ceil((Date.now() + 1500) / 1000) * 1000
    r.store.saveReceived(r.state([onceAt('long', at, [m.sha256])], [m.sha256]))
    r.start()
    await waitFor(() => r.sched.nowPlaying, 10_000, 'playing')
    await new Promise((res) => setTimeout(res, 500))
    r.time.step(-2 * H)
    await waitFor(() => r.playsOf('long').length > 0, 10_000, 'report')
    const p = r.playsOf('long')[0]
    expect(p?.status).toBe('played')
    expect(p?.duration_ms).toBeGreaterThanOrEqual(1900)
    expect(p?.duration_ms).toBeLessThan(4000)
    expect(Date.parse(p?.ended_at as string) - Date.parse(p?.started_at as string)).toBe(p?.duration_ms)
    await r.stop()
  })

  it('an occurrence waiting its turn when an untrusted clock jumps 2 h forward still plays (not grace-expired)', async () => {
    const r = clockRig({ offsetMs: 0, sync: 'unsynced' })
    const m = r.media(2)
    r.clock.vouch(Date.now())
    const at = Math.ceil((Date.now() + 1500) / 1000) * 1000
    const first = { ...onceAt('first', at, [m.sha256]), priority: 60 }
    const second = onceAt('second', at, [m.sha256]) // same instant, lower band: waits for `first`
    r.store.saveReceived(r.state([first, second], [m.sha256]))
    r.start()
    await waitFor(() => r.sched.nowPlaying?.scheduleId === 'first', 10_000, 'first playing')
    r.time.step(2 * H)
    await waitFor(() => r.playsOf('second').length > 0, 15_000, 'second reported')
    expect(r.plays().map((p) => [p.schedule_id, p.status, p.reason])).toEqual([
      ['first', 'played', null],
      ['second', 'played', null],
    ])
    await r.stop()
  })

  it('a restored remainder of a preempted occurrence is held while the clock is 2 h ahead, then plays on time', async () => {
    const real = Date.now()
    const r = clockRig({ offsetMs: 2 * H, sync: 'unsynced', previousRun: { cursor: real, floor: real } })
    const m = r.media(1)
    const at = Math.ceil((real + 6000) / 1000) * 1000
    const part = {
      ...onceAt('news', at, [m.sha256]),
      key: `news@${iso(at)}~p1`,
      scheduleId: 'news',
      at: iso(at),
    }
    const remainder = { ...part, volume: 90 }
    r.kvSet('scheduler.pending', JSON.stringify([remainder]))
    r.store.saveReceived(r.state([], [m.sha256]))
    r.start()
    await new Promise((res) => setTimeout(res, 1000))
    expect(r.plays()).toEqual([]) // neither played nor reported missed by the wrong clock
    r.sync.state = 'synced'
    r.time.step(-2 * H)
    await waitFor(() => r.playsOf('news').length > 0, 15_000, 'remainder played')
    const p = r.playsOf('news')[0]
    expect([p?.status, p?.reason]).toEqual(['played', null])
    expect(Math.abs(Date.parse(p?.started_at as string) - at)).toBeLessThan(1000)
    await r.stop()
  })
})
