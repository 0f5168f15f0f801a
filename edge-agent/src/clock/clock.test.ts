import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ManualTime, SteppedTime } from '../../test-kit/clock-fakes.js'
import { tmp } from '../../test-kit/test-helpers.js'
import { openDb } from '../storage/db.js'
import { BEHIND_TOLERANCE_MS, Clock, type ClockJump, type ClockState, sleepUntil } from './clock.js'
import { fileSync, SimulatedSync } from './sync.js'

// Every instant is derived from the real clock at run time: nothing depends on today's date or the time zone.
const H = 3600_000
const tick = () => new Promise((r) => setImmediate(r))

describe('the agent clock (clock.ts)', () => {
  it('behind a signed time: now is that floor, advanced by monotonic time; missed/expiry judged against it', () => {
    const real = Date.now()
    const time = new ManualTime(real - 86_400_000) // booted a day behind
    const clock = new Clock({ time, sync: new SimulatedSync('unsynced') })
    expect(clock.now()).toBe(real - 86_400_000)
    expect(clock.lowerBound()).toBe(0) // untrusted and nothing vouched for: nothing is certainly past
    expect(clock.state()).toBe('unsynced')
    clock.vouch(real) // a desired state signed at `real`
    expect(clock.state()).toBe('behind-signed-time')
    expect(clock.now()).toBe(real)
    time.advance(10_000)
    expect(clock.now()).toBe(real + 10_000)
    expect(clock.lowerBound()).toBe(real + 10_000)
    expect(clock.status()).toMatchObject({ state: 'behind-signed-time', offsetFromSignedMs: -86_400_000 })
    // An older signed time never lowers the floor.
    clock.vouch(real - H)
    expect(clock.now()).toBe(real + 10_000)
  })

  it('ahead and untrusted: now is the local clock, but the lower bound stays at the signed floor', () => {
    const real = Date.now()
    const time = new ManualTime(real + 2 * H)
    const sync = new SimulatedSync('unsynced')
    const clock = new Clock({ time, sync })
    clock.vouch(real)
    time.advance(5000)
    expect(clock.now()).toBe(real + 2 * H + 5000)
    expect(clock.lowerBound()).toBe(real + 5000)
    expect(clock.state()).toBe('unsynced')
    expect(clock.status().offsetFromSignedMs).toBe(2 * H)
    // Trusted (NTP synced, or no way to tell): the lower bound is now.
    sync.state = 'synced'
    const trusted = new Clock({ time, sync })
    trusted.vouch(real)
    expect(trusted.lowerBound()).toBe(trusted.now())
    // Within the tolerance a signed time slightly ahead (delivery, skew) does not count as "behind".
    const close = new Clock({ time: new ManualTime(real), sync })
    close.vouch(real + BEHIND_TOLERANCE_MS - 1)
    expect(close.state()).toBe('synced')
    expect(close.now()).toBe(real)
  })

  it('finds jumps both ways by comparing wall and monotonic deltas, not ordinary passing time', async () => {
    const real = Date.now()
    const time = new ManualTime(real + 2 * H)
    const clock = new Clock({ time, sync: new SimulatedSync('unsynced'), jumpThresholdMs: 1000 })
    const jumps: ClockJump[] = []
    clock.onJump((j) => jumps.push(j))
    time.advance(60_000) // a minute passes: no jump
    time.step(400) // NTP slews a little: no jump
    clock.now()
    time.step(-2 * H) // NTP steps it back
    clock.now()
    await tick()
    expect(jumps).toHaveLength(1)
    expect(jumps[0]?.deltaMs).toBe(-2 * H)
    expect(jumps[0]?.toMs).toBe(real + 60_400)
    time.step(86_400_000)
    clock.wall()
    await tick()
    expect(jumps.map((j) => j.deltaMs)).toEqual([-2 * H, 86_400_000])
    expect(clock.status()).toMatchObject({ jumps: 2, lastJumpMs: 86_400_000 })
    expect(Date.parse(clock.status().lastJumpAt as string)).toBe(time.wallMs)
  })

  it('a persisted floor holds after a restart and advances with the new process monotonic time', () => {
    const db = openDb(join(tmp(), 'agent.db'))
    const real = Date.now()
    new Clock({ db, time: new ManualTime(real), sync: new SimulatedSync('unsynced') }).vouch(real)
    // Power cut; the box boots a day behind, with a new monotonic origin.
    const time = new ManualTime(real - 86_400_000, 42)
    const after = new Clock({ db, time, sync: new SimulatedSync('unsynced') })
    expect(after.floorNow()).toBe(real)
    time.advance(3000)
    expect(after.now()).toBe(real + 3000)
    expect(after.state()).toBe('behind-signed-time')
    db.close()
  })

  it('while NTP says synced, the wall time is persisted as a floor for the next boot; state changes are reported', async () => {
    const db = openDb(join(tmp(), 'agent.db'))
    const real = Date.now()
    const sync = new SimulatedSync('synced')
    const clock = new Clock({ db, time: new ManualTime(real), sync })
    const states: [ClockState | null, ClockState][] = []
    clock.onState((from, to) => states.push([from, to]))
    clock.start()
    clock.stop()
    expect(new Clock({ db, time: new ManualTime(real - H), sync }).state()).toBe('behind-signed-time')
    // Synced → unsynced is noticed on the next poll (a jump polls at once).
    const time = new ManualTime(real)
    const c2 = new Clock({ time, sync, syncPollMs: 0 })
    c2.onState((from, to) => states.push([from, to]))
    c2.start()
    sync.state = 'unsynced'
    time.step(-5000)
    c2.now()
    await tick()
    await tick()
    c2.stop()
    expect(states).toEqual([
      [null, 'synced'],
      [null, 'synced'],
      ['synced', 'unsynced'],
    ])
    db.close()
  })

  it('file sync source: synced while the file exists', async () => {
    const dir = tmp()
    const { writeFileSync, rmSync } = await import('node:fs')
    const file = join(dir, 'synchronized')
    const s = fileSync(file)
    expect(s.initial?.()).toBe('unsynced')
    writeFileSync(file, '')
    expect(await s.read()).toBe('synced')
    rmSync(file)
    expect(await s.read()).toBe('unsynced')
  })

  it('sleepUntil follows the clock: a step forward ends a two-hour wait within a second', async () => {
    const time = new SteppedTime()
    const clock = new Clock({ time })
    const target = clock.now() + 2 * H
    const t0 = performance.now()
    const done = sleepUntil(clock, target)
    setTimeout(() => time.step(2 * H), 100)
    await done
    expect(performance.now() - t0).toBeLessThan(1500)
  })
})
