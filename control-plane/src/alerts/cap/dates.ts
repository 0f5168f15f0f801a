/**
 * CAP 1.2 date-times (§3.3.2): `YYYY-MM-DDThh:mm:ss±hh:mm`. Every field is checked against the calendar: nothing
 * rolls over (`2027-02-30`, `T24:00:00`, `:60` and offsets beyond ±14:00 are refused, not moved to the next day).
 * Two liberties, both unambiguous: `Z` for `-00:00` and a fraction of a second.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([+-])(\d{2}):(\d{2})|Z)$/

const daysIn = (year: number, month: number) =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31

/** The instant as epoch milliseconds, or the reason the text is not a CAP date-time. */
export function capInstant(text: string): { ms: number } | { problem: string } {
  const m = DATE_TIME.exec(text)
  if (!m) return { problem: 'expected a date-time with offset like 2026-11-27T08:00:00+07:00' }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  if (year < 1) return { problem: 'year 0000 does not exist' }
  if (month < 1 || month > 12) return { problem: `month ${m[2]} does not exist` }
  if (day < 1 || day > daysIn(year, month)) return { problem: `${m[1]}-${m[2]} has no day ${m[3]}` }
  if (hour > 23) return { problem: `hour ${m[4]} does not exist (00 to 23)` }
  if (minute > 59) return { problem: `minute ${m[5]} does not exist (00 to 59)` }
  if (second > 59) return { problem: `second ${m[6]} does not exist (00 to 59)` }
  let offsetMin = 0
  if (m[8]) {
    const oh = Number(m[9])
    const om = Number(m[10])
    if (om > 59 || oh * 60 + om > 14 * 60) return { problem: `offset ${m[8]}${m[9]}:${m[10]} does not exist` }
    offsetMin = (m[8] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  const fraction = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0
  const utc = new Date(0)
  utc.setUTCFullYear(year, month - 1, day)
  utc.setUTCHours(hour, minute, second, fraction)
  return { ms: utc.getTime() - offsetMin * 60_000 }
}
