/** Local wall-clock time (HH:MM:SS) and date of an instant in the province's zone, for weekly schedules. */
export function localTime(at: Date, timeZone = 'Asia/Ho_Chi_Minh'): { time: string; date: string } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at)
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '00'
  return {
    time: `${get('hour')}:${get('minute')}:${get('second')}`,
    date: `${get('year')}-${get('month')}-${get('day')}`,
  }
}

/** A whole second at least `ms` from now. */
export function secondsFromNow(ms: number): Date {
  return new Date(Math.ceil((Date.now() + ms) / 1000) * 1000)
}

/** A weekly recurrence that fires at exactly these instants (every day, from yesterday on). */
export function weeklyAt(instants: Date[]) {
  const yesterday = localTime(new Date(Date.now() - 86_400_000)).date
  return {
    kind: 'weekly' as const,
    daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
    times: instants.map((i) => localTime(i).time),
    startDate: yesterday,
  }
}
