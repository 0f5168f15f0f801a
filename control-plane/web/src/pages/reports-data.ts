import type { Report, ReportDay } from '@loa/control-plane'
import { get, qs } from '../api'

/** The report as GET /api/reports answers it (docs/reports.md): the control plane's own types. */
export type { Report, ReportDay, ReportFigures } from '@loa/control-plane'

export interface ReportQuery {
  unitId: string
  from: string
  to: string
  year: number | null
}

/** The period report, or the yearly one (1 January to today, for the ministry). */
export function loadReport(q: ReportQuery): Promise<Report> {
  return q.year !== null
    ? get<Report>(`/api/reports/yearly${qs({ unitId: q.unitId, year: q.year })}`)
    : get<Report>(`/api/reports${qs({ unitId: q.unitId, from: q.from, to: q.to })}`)
}

export function csvUrl(q: ReportQuery): string {
  return q.year !== null
    ? `/api/reports/yearly.csv${qs({ unitId: q.unitId, year: q.year })}`
    : `/api/reports.csv${qs({ unitId: q.unitId, from: q.from, to: q.to })}`
}

/** A yearly chart by month (a year of days is unreadable on a phone). */
export function byMonth(series: ReportDay[]): ReportDay[] {
  const months = new Map<string, ReportDay>()
  for (const d of series) {
    const key = d.date.slice(0, 7)
    const m = months.get(key) ?? {
      date: key,
      plays: 0,
      successfulPlays: 0,
      minutesPlayed: 0,
      minutesRequested: 0,
      availabilityPct: null,
    }
    m.plays += d.plays
    m.successfulPlays += d.successfulPlays
    m.minutesPlayed += d.minutesPlayed
    m.minutesRequested += d.minutesRequested
    months.set(key, m)
  }
  return [...months.values()]
}

/** Local date yyyy-mm-dd of a Date (the browser's zone; the server reads them in the province's zone). */
export const isoDate = (d: Date): string =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
