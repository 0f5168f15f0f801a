import { LoaError } from '../../server/errors.js'
import type { CapAlert, CapInfo } from './parse.js'

/** How far `sent` may be from this server's clock (LOA_CAP_MAX_AGE_S, LOA_CAP_MAX_FUTURE_S). */
export interface CapWindow {
  maxAgeS: number
  maxFutureS: number
}

/** The longest a CAP alert lasts, counted from its `sent`: a later `expires` is cut to this. */
export const CAP_MAX_LIFETIME_MS = 7 * 24 * 3600_000
/** How long an alert without `expires` lasts once it starts. */
export const CAP_DEFAULT_DURATION_MS = 3600_000

const stale = (message: string) => new LoaError('LOA_CAP_STALE', message)
const seconds = (ms: number) => Math.round(ms / 1000)

/**
 * Refuses a message whose `sent` is outside the window around `now`: more than `maxFutureS` ahead (a wrong clock at
 * the sender, or a message made to win every ordering by `sent`), or, for an Alert or Update, older than the time it
 * can still be in effect: `expires` (at most 7 days after `sent`), or `maxAgeS` when it gives none. A message whose
 * `expires` has passed is not refused here: it is recorded as expired and never sent. A late Cancel is always
 * applied: it never makes anything sound.
 */
export function checkSentWindow(cap: CapAlert, info: CapInfo | null, now: number, w: CapWindow): void {
  const sent = Date.parse(cap.sent)
  if (sent - now > w.maxFutureS * 1000) {
    throw stale(
      `alert/sent: ${cap.sent} is ${seconds(sent - now)} s ahead of this server's clock (at most ${w.maxFutureS} s, LOA_CAP_MAX_FUTURE_S)`,
    )
  }
  if (cap.msgType === 'Cancel' || !info) return
  const age = now - sent
  if (info.expires) {
    if (Date.parse(info.expires) <= now) return
    if (age > CAP_MAX_LIFETIME_MS) {
      throw stale(
        `alert/sent: ${cap.sent} is ${seconds(age)} s old; no alert lasts more than ${seconds(CAP_MAX_LIFETIME_MS)} s after it was sent, whatever its expires`,
      )
    }
    return
  }
  if (age > w.maxAgeS * 1000) {
    throw stale(
      `alert/sent: ${cap.sent} is ${seconds(age)} s old and the message gives no expires (at most ${w.maxAgeS} s, LOA_CAP_MAX_AGE_S)`,
    )
  }
}

/**
 * When the alert sounds and until when: it starts at `effective` (else at once), lasts until `expires` (cut to 7
 * days after `sent`) or, without one, an hour after it starts. `onset` (when the event itself begins) does not move
 * the alert: a warning sounds before the event.
 */
export function capSchedule(
  cap: CapAlert,
  info: CapInfo,
  index: number,
  now: number,
): { startsAt: string; expiresAt: string; expired: boolean } {
  const sent = Date.parse(cap.sent)
  const effective = info.effective ? Date.parse(info.effective) : null
  const expires = info.expires ? Date.parse(info.expires) : null
  const path = `alert/info/${index}`
  if (expires !== null && expires <= sent) {
    throw new LoaError('LOA_CAP_INVALID', `${path}/expires: ${info.expires} is not after sent (${cap.sent})`)
  }
  if (effective !== null && expires !== null && effective >= expires) {
    throw new LoaError(
      'LOA_CAP_INVALID',
      `${path}/effective: ${info.effective} is not before expires (${info.expires})`,
    )
  }
  if (effective !== null && effective - sent >= CAP_MAX_LIFETIME_MS) {
    throw new LoaError(
      'LOA_CAP_UNSUPPORTED',
      `${path}/effective: ${info.effective} is 7 days or more after sent: no alert is held that long`,
    )
  }
  const start = Math.max(now, effective ?? now)
  const end =
    expires !== null ? Math.min(expires, sent + CAP_MAX_LIFETIME_MS) : start + CAP_DEFAULT_DURATION_MS
  return {
    startsAt: new Date(start).toISOString(),
    expiresAt: new Date(end).toISOString(),
    expired: end <= now,
  }
}
