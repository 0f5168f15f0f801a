import { DateTime } from 'luxon'
import { LoaError, type LoaErrorCode } from '../server/errors.js'

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/

/** A local date (start of that day in `tz`) or a date-time; a clear error naming the field otherwise. */
export function parseBound(value: string, field: string, tz: string, code: LoaErrorCode): Date {
  if (LOCAL_DATE.test(value)) {
    const d = DateTime.fromISO(value, { zone: tz })
    if (!d.isValid) throw new LoaError(code, `${field}: ${value} is not a real date`)
    return d.toJSDate()
  }
  const t = Date.parse(value)
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new LoaError(code, `${field}: "${value}" is neither a date (YYYY-MM-DD) nor a date-time`)
  }
  return new Date(t)
}

/** [from, to) with checks: real bounds, order, a maximum length in days. */
export function parsePeriod(
  q: { from?: string; to?: string },
  tz: string,
  code: LoaErrorCode,
  opts: { maxDays: number; defaultDays: number; toInclusiveDate?: boolean },
): { from: Date; to: Date } {
  const from = q.from
    ? parseBound(q.from, 'from', tz, code)
    : DateTime.now().setZone(tz).startOf('day').toJSDate()
  let to: Date
  if (q.to) {
    to = parseBound(q.to, 'to', tz, code)
    // A report's "to" date is the last day included.
    if (opts.toInclusiveDate && LOCAL_DATE.test(q.to)) {
      to = DateTime.fromJSDate(to, { zone: tz }).plus({ days: 1 }).toJSDate()
    }
  } else to = DateTime.fromJSDate(from, { zone: tz }).plus({ days: opts.defaultDays }).toJSDate()
  if (to.getTime() <= from.getTime()) throw new LoaError(code, 'to: must be after from')
  if (to.getTime() - from.getTime() > opts.maxDays * 86_400_000 + 3_600_000) {
    throw new LoaError(code, `to: at most ${opts.maxDays} days after from`)
  }
  return { from, to }
}
