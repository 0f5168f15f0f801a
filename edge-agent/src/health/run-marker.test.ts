import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { silentLog, tmp } from '../../test-kit/test-helpers.js'
import { openDb } from '../storage/db.js'
import { agentProbes } from './agent-watchdog.js'
import { clearUnhealthy, markStopped, recordCrash, recordUnhealthy, takePreviousRun } from './run-marker.js'
import { Watchdog } from './watchdog.js'

describe('run marker: how the last run ended', () => {
  it('clean stop: nothing; kill -9: killed; uncaught error: crash; stopped pinging: watchdog', () => {
    const db = openDb(join(tmp(), 'agent.db'))
    expect(takePreviousRun(db, 10)).toBeNull() // first start ever
    markStopped(db)
    expect(takePreviousRun(db, 11)).toBeNull() // after a clean stop
    expect(takePreviousRun(db, 12)).toMatchObject({ cause: 'killed', pid: 11 }) // 11 never stopped
    recordCrash(db, new Error('boom'))
    expect(takePreviousRun(db, 13)).toMatchObject({
      cause: 'crash',
      pid: 12,
      crash: { error: expect.stringContaining('boom') },
    })
    recordUnhealthy(db, ['scheduler: no tick for 20 s'], { relayOn: true })
    markStopped(db) // systemd's SIGTERM stopped it cleanly: still reported
    expect(takePreviousRun(db, 14)).toMatchObject({
      cause: 'watchdog',
      unhealthy: { reasons: ['scheduler: no tick for 20 s'], snapshot: { relayOn: true } },
    })
    recordUnhealthy(db, ['x'], {})
    clearUnhealthy(db) // healthy again before systemd acted
    markStopped(db)
    expect(takePreviousRun(db, 15)).toBeNull()
    db.close()
  })
})

describe('watchdog probes and pings', () => {
  const np = (startedAt: number) => ({
    scheduleId: 's1',
    title: 'Bản tin sáng',
    sha256: 'a'.repeat(64),
    startedAt: new Date(startedAt).toISOString(),
    fallback: false,
  })

  it('scheduler stale, player past its bound, MQTT silent while connected', () => {
    // Monotonic times (the probes never read the wall clock): any origin will do.
    const now = 1_000_000
    let playingMs = 100_000
    const target = {
      scheduler: {
        lastTickAt: now,
        nowPlaying: np(Date.now()) as ReturnType<typeof np> | null,
        playingForMs: () => playingMs,
      },
      link: { connected: true, lastPacketAt: now },
      durationOf: (_sha: string): number | undefined => 60_000,
    }
    const probes = agentProbes(target, 5000)
    const verdicts = (t: number) => probes.map((p) => p.check(t))
    expect(verdicts(now)).toEqual([null, null, null]) // 100 s into a 60 s item: below 2 × 60 + 30 + 60 s
    // The wall clock says the item started a day ago (a clock stepped forward): not a hang.
    target.scheduler.nowPlaying = np(Date.now() - 86_400_000)
    expect(verdicts(now)).toEqual([null, null, null])
    playingMs = 300_000
    target.scheduler.lastTickAt = now - 6000
    target.link.lastPacketAt = now - 200_000
    expect(verdicts(now)).toEqual([
      'no tick for 6 s',
      '"Bản tin sáng" playing for 300 s (60000 ms long)',
      'connected, nothing received for 200 s',
    ])
    target.link.connected = false // offline is not wedged
    target.durationOf = () => undefined // a live relay: no end known
    expect(verdicts(now).slice(1)).toEqual([null, null])
  })

  it('pings only while healthy; records once when they stop, clears when they resume', async () => {
    const states: string[] = []
    const calls: string[] = []
    let sick: string | null = null
    const wd = new Watchdog({
      notify: async (s) => {
        states.push(s)
      },
      probes: [{ name: 'scheduler', check: () => sick }],
      pingMs: 20,
      log: silentLog,
      onUnhealthy: (r) => calls.push(`unhealthy ${r.join()}`),
      onHealthy: () => calls.push('healthy'),
    })
    wd.start()
    await new Promise((r) => setTimeout(r, 70))
    sick = 'no tick'
    await new Promise((r) => setTimeout(r, 30))
    const pingsWhenSick = states.length
    await new Promise((r) => setTimeout(r, 100))
    expect(states.length).toBe(pingsWhenSick)
    sick = null
    await new Promise((r) => setTimeout(r, 70))
    wd.stop()
    expect(states[0]).toBe('READY=1')
    expect(states.filter((s) => s === 'WATCHDOG=1').length).toBeGreaterThan(2)
    expect(states.length).toBeGreaterThan(pingsWhenSick)
    expect(calls).toEqual(['unhealthy scheduler: no tick', 'healthy'])
  })
})
