import { formatDateTime, lang } from './i18n'

const DAYS = {
  vi: ['T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'CN'],
  en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
}

/** ISO weekdays (1 = Monday) in words: "T2, T4" / "Mon, Wed"; all seven: everyDay. */
export function daysText(days: number[], everyDay: string): string {
  if (days.length === 7) return everyDay
  return days.map((d) => DAYS[lang()][d - 1] ?? String(d)).join(', ')
}

export interface RecurrenceWords {
  once: (at: string) => string
  weekly: (days: string, times: string) => string
  interval: (days: string, from: string, until: string, n: number) => string
  everyDay: string
}

/** A schedule's recurrence as a sentence (docs/protocol.md: once, weekly, interval). */
export function recurrenceText(r: Record<string, unknown> & { kind: string }, w: RecurrenceWords): string {
  const days = daysText((r.daysOfWeek as number[] | undefined) ?? [], w.everyDay)
  if (r.kind === 'once') return w.once(formatDateTime(r.at as string))
  if (r.kind === 'weekly') return w.weekly(days, ((r.times as string[]) ?? []).join(', '))
  if (r.kind === 'interval') {
    return w.interval(days, r.from as string, r.until as string, r.everyMinutes as number)
  }
  return r.kind
}
