import { DateTime, IANAZone } from 'luxon'
import type { DailyWindow, Recurrence } from './recurrence.js'

/**
 * Pure schedule arithmetic shared by the agent (which plays) and the control plane (which reports).
 * Recurrences are written in the province's wall-clock time; instants on the wire are UTC. All conversions go
 * through luxon so DST-observing zones behave too (Vietnam has none, but the code should not assume that).
 */

/** Hard cap so a bad range (years of a 1-minute interval) cannot eat the CPU of a Pi. */
export const MAX_OCCURRENCES = 100_000

export function isValidTimeZone(tz: string): boolean {
  return IANAZone.isValidZone(tz)
}

function zoneOrThrow(tz: string): string {
  if (!isValidTimeZone(tz)) throw new Error(`invalid IANA time zone "${tz}"`)
  return tz
}

function parseTime(time: string): { hour: number; minute: number; second: number } {
  const [hour = 0, minute = 0, second = 0] = time.split(':').map(Number)
  return { hour, minute, second }
}

function secondsOfDay(time: string): number {
  const t = parseTime(time)
  return t.hour * 3600 + t.minute * 60 + t.second
}

/** Local calendar days (start of day in `tz`) that may hold occurrences in [from, to), clamped to the date range. */
function localDays(
  tz: string,
  from: Date,
  to: Date,
  startDate: string,
  endDate: string | undefined,
): DateTime[] {
  const zone = zoneOrThrow(tz)
  // One day of slack on each side: a local day may straddle the UTC range edges.
  let day = DateTime.fromJSDate(from, { zone }).startOf('day').minus({ days: 1 })
  const last = DateTime.fromJSDate(to, { zone }).startOf('day').plus({ days: 1 })
  const start = DateTime.fromISO(startDate, { zone })
  const end = endDate === undefined ? null : DateTime.fromISO(endDate, { zone })
  if (day < start) day = start
  const days: DateTime[] = []
  while (day <= last && (end === null || day <= end)) {
    days.push(day)
    day = day.plus({ days: 1 })
  }
  return days
}

function atLocal(day: DateTime, seconds: number): Date {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return day.set({ hour: h, minute: m, second: s, millisecond: 0 }).toJSDate()
}

/**
 * Occurrences of `r` in the half-open range [from, to), evaluated in `tz`, ascending and de-duplicated.
 * Throws on an invalid time zone. Stops after MAX_OCCURRENCES.
 */
export function occurrencesBetween(r: Recurrence, tz: string, from: Date, to: Date): Date[] {
  const lo = from.getTime()
  const hi = to.getTime()
  if (!(hi > lo)) return []
  if (r.kind === 'once') {
    zoneOrThrow(tz)
    const at = Date.parse(r.at)
    return at >= lo && at < hi ? [new Date(at)] : []
  }
  const days = new Set(r.daysOfWeek)
  const out: number[] = []
  const push = (d: Date): boolean => {
    const t = d.getTime()
    if (t >= lo && t < hi) out.push(t)
    return out.length < MAX_OCCURRENCES
  }
  outer: for (const day of localDays(tz, from, to, r.startDate, r.endDate)) {
    if (!days.has(day.weekday)) continue
    if (r.kind === 'weekly') {
      for (const time of r.times) if (!push(atLocal(day, secondsOfDay(time)))) break outer
    } else {
      const until = secondsOfDay(r.until)
      for (let s = secondsOfDay(r.from); s < until; s += r.everyMinutes * 60) {
        if (!push(atLocal(day, s))) break outer
      }
    }
  }
  out.sort((a, b) => a - b)
  return [...new Set(out)].map((t) => new Date(t))
}

/** The first occurrence at or after `after`, looking ahead at most `horizonDays`; null if none. */
export function nextOccurrence(r: Recurrence, tz: string, after: Date, horizonDays = 14): Date | null {
  let from = after
  // Scan a day at a time so a dense interval recurrence does not enumerate two weeks at once.
  for (let i = 0; i < horizonDays; i++) {
    const to = new Date(from.getTime() + 86_400_000)
    const found = occurrencesBetween(r, tz, from, to)
    if (found.length > 0) return found[0] ?? null
    from = to
  }
  return null
}

/** Whether `instant` falls inside one of the daily windows [from, until) on their days, in `tz`. */
export function inWindow(windows: readonly DailyWindow[], instant: Date, tz: string): boolean {
  const local = DateTime.fromJSDate(instant, { zone: zoneOrThrow(tz) })
  const s = local.hour * 3600 + local.minute * 60 + local.second
  return windows.some(
    (w) => w.daysOfWeek.includes(local.weekday) && s >= secondsOfDay(w.from) && s < secondsOfDay(w.until),
  )
}
