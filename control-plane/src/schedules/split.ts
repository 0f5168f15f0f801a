import { type IntervalRecurrence, occurrencesBetween, type WeeklyRecurrence } from '@loa/shared'
import type { Static } from '@sinclair/typebox'
import { DateTime } from 'luxon'

type Weekly = Static<typeof WeeklyRecurrence>
type Interval = Static<typeof IntervalRecurrence>
type Repeating = Weekly | Interval

const secondsOf = (t: string) => {
  const [h = 0, m = 0, s = 0] = t.split(':').map(Number)
  return h * 3600 + m * 60 + s
}
const timeOf = (sec: number) => {
  const hh = String(Math.floor(sec / 3600)).padStart(2, '0')
  const mm = String(Math.floor((sec % 3600) / 60)).padStart(2, '0')
  const ss = sec % 60
  return ss === 0 ? `${hh}:${mm}` : `${hh}:${mm}:${String(ss).padStart(2, '0')}`
}

/** Whether a recurrence bounded by dates has any occurrence at all (an unbounded one always may). */
function hasOccurrences(r: Repeating, tz: string): boolean {
  if (r.endDate === undefined) return true
  const from = DateTime.fromISO(r.startDate, { zone: tz }).toJSDate()
  const to = DateTime.fromISO(r.endDate, { zone: tz }).plus({ days: 1 }).toJSDate()
  return occurrencesBetween(r, tz, from, to).length > 0
}

/**
 * The recurrences that together give every occurrence of `r` except the one at `occurrence`: the series up to the day
 * before, that day's other occurrences, and the series from the day after. The agents know nothing of exceptions,
 * so a single occurrence is moved or cancelled by splitting the schedule (docs/bulletins.md#calendar).
 */
export function splitAround(r: Repeating, occurrence: Date, tz: string): Repeating[] {
  const local = DateTime.fromJSDate(occurrence, { zone: tz })
  const day = local.toISODate() as string
  const prev = local.minus({ days: 1 }).toISODate() as string
  const next = local.plus({ days: 1 }).toISODate() as string
  const sec = local.hour * 3600 + local.minute * 60 + local.second
  const out: Repeating[] = []
  if (prev >= r.startDate) out.push({ ...r, endDate: prev })
  const sameDay = { daysOfWeek: [local.weekday], startDate: day, endDate: day }
  if (r.kind === 'weekly') {
    const times = r.times.filter((t) => secondsOf(t) !== sec)
    if (times.length > 0) out.push({ ...r, ...sameDay, times })
  } else {
    if (sec > secondsOf(r.from)) out.push({ ...r, ...sameDay, until: timeOf(sec) })
    const after = sec + r.everyMinutes * 60
    if (after < secondsOf(r.until)) out.push({ ...r, ...sameDay, from: timeOf(after) })
  }
  if (r.endDate === undefined || next <= r.endDate) out.push({ ...r, startDate: next })
  return out.filter((x) => hasOccurrences(x, tz))
}
