import type { Logger } from 'pino'
import type { Outbox } from '../link/outbox.js'
import type { Clock, ClockState } from './clock.js'

/** Events of one kind per hour at most: a clock stepped over and over must not fill the outbox (telemetry counts all). */
const MAX_EVENTS_PER_HOUR = 30

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * Reports the clock upward: every jump (`clock-jumped`: `data.from`, `data.to`, `data.deltaMs`, `data.state`) and
 * every change of state (`clock-state`: `data.from`, `data.to`). After a step back, entries published before it
 * carry a `sent_at` in the future by the new clock and would not be re-sent for that long: everything pending is
 * sent again at once.
 */
export function watchClock(clock: Clock, o: { outbox: Outbox; log: Logger; flush: () => void }): void {
  const budget = new Map<string, { since: number; n: number }>()
  const allowed = (kind: string) => {
    const m = clock.mono()
    const b = budget.get(kind)
    if (!b || m - b.since > 3600_000) {
      budget.set(kind, { since: m, n: 1 })
      return true
    }
    return ++b.n <= MAX_EVENTS_PER_HOUR
  }
  clock.onJump((j) => {
    const state = clock.state()
    o.log.warn(
      { from: iso(j.fromMs), to: iso(j.toMs), deltaMs: Math.round(j.deltaMs), state },
      'clock jumped',
    )
    if (allowed('clock-jumped')) {
      const secs = Math.round(j.deltaMs / 1000)
      o.outbox.event(
        'clock-jumped',
        'warning',
        `local clock stepped ${secs >= 0 ? 'forward' : 'back'} ${Math.abs(secs)} s`,
        { from: iso(j.fromMs), to: iso(j.toMs), deltaMs: Math.round(j.deltaMs), state },
      )
    }
    if (j.deltaMs < 0) o.outbox.resetInFlight()
    o.flush()
  })
  clock.onState((from: ClockState | null, to: ClockState) => {
    o.log.info({ from, to }, 'clock state')
    if (!allowed('clock-state')) return
    const bad = to === 'unsynced' || to === 'behind-signed-time'
    o.outbox.event('clock-state', bad ? 'warning' : 'info', `clock ${to}${from ? ` (was ${from})` : ''}`, {
      from,
      to,
      ...clock.status(),
    })
  })
}
