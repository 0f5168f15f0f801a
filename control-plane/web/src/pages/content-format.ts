/**
 * Dates, times and durations for the content pages. Schedules are written in the province's wall-clock time
 * (docs/protocol.md), whatever zone the operator's phone is set to, so every conversion names the zone.
 */
let provinceTz = 'Asia/Ho_Chi_Minh'

/** The installation's zone (LOA_TIMEZONE, from /console-config.json); Vietnam's until it has loaded. */
export function setProvinceTimezone(tz: string): void {
  provinceTz = tz
}

/** 83_000 → "1:23". */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000)
  const m = Math.floor(total / 60)
  const s = total % 60
  return `${m}:${String(s).padStart(2, '0')}`
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

type Parts = Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'weekday', string>

function parts(at: Date, tz: string): Parts {
  const out: Parts = { year: '', month: '', day: '', hour: '', minute: '', second: '', weekday: '' }
  const fmt = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    weekday: 'short',
  })
  for (const p of fmt.formatToParts(at)) if (p.type in out) out[p.type as keyof Parts] = p.value
  return out
}

/** The local date (YYYY-MM-DD) and time (HH:MM) of an instant in the province. */
export function localParts(at: Date, tz = provinceTz): { date: string; time: string; isoWeekday: number } {
  const p = parts(at, tz)
  const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    time: `${p.hour}:${p.minute}`,
    isoWeekday: weekdays.indexOf(p.weekday) + 1,
  }
}

/** The UTC instant of a local date and time in the province (the zone's offset found by asking Intl). */
export function fromLocal(date: string, time: string, tz = provinceTz): Date {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number]
  const [h, mi, s = 0] = time.split(':').map(Number) as [number, number, number?]
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s)
  // The offset at the guessed instant; one correction covers a DST change between guess and answer.
  let guess = asUtc
  for (let i = 0; i < 2; i++) {
    const p = parts(new Date(guess), tz)
    const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second)
    guess = asUtc - (shown - guess)
  }
  return new Date(guess)
}

/** YYYY-MM-DD plus `days` (calendar arithmetic, no zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10)
}

/** The Monday of the week holding `date`. */
export function mondayOf(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const dow = new Date(Date.UTC(y, m - 1, d)).getUTCDay() // 0 = Sunday
  return addDays(date, -((dow + 6) % 7))
}

/** "27/11 06:30" in the province's zone, as Vietnamese write dates. */
export function formatLocal(iso: string, tz = provinceTz): string {
  const p = parts(new Date(iso), tz)
  return `${p.day}/${p.month} ${p.hour}:${p.minute}`
}
