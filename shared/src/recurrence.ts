import { type Static, Type } from '@sinclair/typebox'
import { DaysOfWeek, IsoUtc, LocalDate, LocalTime } from './common.js'
import { DESIRED_LIMITS } from './messages/desired-limits.js'

/** Plays once at a UTC instant. */
export const OnceRecurrence = Type.Object({ kind: Type.Literal('once'), at: IsoUtc })

/** Plays at fixed local times on some days of the week, between two local dates. */
export const WeeklyRecurrence = Type.Object({
  kind: Type.Literal('weekly'),
  daysOfWeek: DaysOfWeek,
  times: Type.Array(LocalTime, { minItems: 1, maxItems: DESIRED_LIMITS.weeklyTimes, uniqueItems: true }),
  startDate: LocalDate,
  endDate: Type.Optional(LocalDate),
})

/** Plays every N minutes inside a daily window [from, until), on some days, between two local dates. */
export const IntervalRecurrence = Type.Object({
  kind: Type.Literal('interval'),
  daysOfWeek: DaysOfWeek,
  everyMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  from: LocalTime,
  until: LocalTime,
  startDate: LocalDate,
  endDate: Type.Optional(LocalDate),
})

export const Recurrence = Type.Union([OnceRecurrence, WeeklyRecurrence, IntervalRecurrence])
export type Recurrence = Static<typeof Recurrence>

/** A daily window in which the fallback programme may fill silence. */
export const DailyWindow = Type.Object({ daysOfWeek: DaysOfWeek, from: LocalTime, until: LocalTime })
export type DailyWindow = Static<typeof DailyWindow>

function isRealDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const dt = new Date(Date.UTC(y, m - 1, d))
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d
}

function seconds(time: string): number {
  const [h, m, s = 0] = time.split(':').map(Number) as [number, number, number?]
  return h * 3600 + m * 60 + s
}

/**
 * Checks what a schema cannot: real calendar dates, ordered ranges. Returns human-readable problems naming the
 * field; an empty list means the recurrence is sound. Run it after the schema check.
 */
export function recurrenceProblems(r: Recurrence, field = 'recurrence'): string[] {
  const problems: string[] = []
  if (r.kind === 'once') {
    if (Number.isNaN(Date.parse(r.at))) problems.push(`${field}.at: not a real instant`)
    return problems
  }
  if (!isRealDate(r.startDate)) problems.push(`${field}.startDate: ${r.startDate} is not a real date`)
  if (r.endDate !== undefined) {
    if (!isRealDate(r.endDate)) problems.push(`${field}.endDate: ${r.endDate} is not a real date`)
    else if (r.endDate < r.startDate) problems.push(`${field}.endDate: before startDate`)
  }
  if (r.kind === 'interval' && seconds(r.until) <= seconds(r.from)) {
    problems.push(`${field}.until: must be after from (${r.from})`)
  }
  return problems
}

export function windowProblems(w: DailyWindow, field = 'window'): string[] {
  return seconds(w.until) <= seconds(w.from) ? [`${field}.until: must be after from (${w.from})`] : []
}
