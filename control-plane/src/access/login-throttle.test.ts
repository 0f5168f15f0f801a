import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { RefusalLog } from '../mqtt/refusal-log.js'
import { LoginThrottle } from './login-throttle.js'

describe('LoginThrottle', () => {
  it('throttles an address once its failures are used up, forgives them over time, holds a bounded number', () => {
    let now = 1_000_000
    const t = new LoginThrottle({
      burst: 3,
      refillMs: 1000,
      delayMs: 500,
      maxHeldPerAddress: 2,
      now: () => now,
    })
    for (let i = 0; i < 3; i++) expect(t.failed('10.0.0.1')).toEqual({ throttled: false, holdMs: 0 })
    expect(t.failed('10.0.0.1')).toEqual({ throttled: true, holdMs: 500 })
    expect(t.failed('10.0.0.1')).toEqual({ throttled: true, holdMs: 500 })
    // Two held already: the next is answered at once (still throttled).
    expect(t.failed('10.0.0.1')).toEqual({ throttled: true, holdMs: 0 })
    // Another address is not affected.
    expect(t.failed('10.0.0.2')).toEqual({ throttled: false, holdMs: 0 })
    t.release('10.0.0.1')
    expect(t.failed('10.0.0.1').holdMs).toBe(500)
    // One failure forgiven per refill interval.
    now += 1000
    expect(t.failed('10.0.0.1').throttled).toBe(false)
    expect(t.failed('10.0.0.1').throttled).toBe(true)
  })
})

describe('RefusalLog', () => {
  it('logs the first lines of a minute one by one, then one summary for the rest', () => {
    const lines: { msg: string; suppressed?: number; byReason?: Record<string, number> }[] = []
    const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l)) })
    let now = 0
    const r = new RefusalLog({ log, perMinute: 2, now: () => now })
    for (let i = 0; i < 5; i++)
      r.warn({ action: 'connect', reason: 'bad-credentials', address: '10.0.0.9' }, 'x')
    r.warn({ action: 'publish', reason: 'too-large', address: '10.0.0.8' }, 'x')
    expect(lines).toHaveLength(2)
    now += 60_000
    r.warn({ action: 'connect', reason: 'anonymous' }, 'x')
    expect(lines).toHaveLength(4)
    expect(lines[2]).toMatchObject({
      suppressed: 4,
      byReason: { 'connect/bad-credentials': 3, 'publish/too-large': 1 },
    })
    expect(lines[3]?.msg).toBe('x')
  })
})
