import { useMemo, useState } from 'preact/hooks'
import { get, qs } from '../api'
import { formatNumber } from '../i18n'
import { navigate } from '../router'
import { currentSession } from '../session'
import type { Unit } from '../types'
import { Button } from '../ui/button'
import { Chart } from '../ui/chart'
import { Field } from '../ui/field'
import { ErrorBox, Loading } from '../ui/states'
import { type Column, Table } from '../ui/table'
import { useData } from '../ui/use-data'
import { tr } from './reports.i18n'
import {
  byMonth,
  csvUrl,
  isoDate,
  loadReport,
  type Report,
  type ReportFigures,
  type ReportQuery,
} from './reports-data'
import type { PageProps } from './types'

const pct = (v: number | null, scale = 1) => (v === null ? '—' : `${formatNumber(v * scale, 1)} %`)
const num = (v: number, digits = 0) => formatNumber(v, digits)

function columns(): Column<ReportFigures>[] {
  return [
    { key: 'name', label: tr('commune'), render: (r) => r.name },
    { key: 'clusters', label: tr('clusters'), numeric: true, render: (r) => num(r.clusters) },
    { key: 'bulletins', label: tr('bulletins'), numeric: true, render: (r) => num(r.bulletins) },
    {
      key: 'successfulPlays',
      label: tr('successfulPlays'),
      numeric: true,
      render: (r) => num(r.successfulPlays),
    },
    {
      key: 'failedPlays',
      label: tr('failedPlays'),
      numeric: true,
      wide: true,
      render: (r) => num(r.failedPlays),
    },
    {
      key: 'emergencyBulletins',
      label: tr('emergencyBulletins'),
      numeric: true,
      render: (r) => num(r.emergencyBulletins),
    },
    {
      key: 'minutesPlayed',
      label: tr('minutesPlayed'),
      numeric: true,
      render: (r) => num(r.minutesPlayed, 1),
    },
    {
      key: 'minutesRequested',
      label: tr('minutesRequested'),
      numeric: true,
      wide: true,
      render: (r) => num(r.minutesRequested, 1),
    },
    {
      key: 'playedRatio',
      label: tr('playedRatio'),
      numeric: true,
      wide: true,
      render: (r) => pct(r.playedRatio, 100),
    },
    {
      key: 'availabilityPct',
      label: tr('availabilityPct'),
      numeric: true,
      render: (r) => pct(r.availabilityPct),
    },
  ]
}

/** The query from the URL, with defaults: the user's own unit, this month so far. */
function readQuery(query: URLSearchParams, units: Unit[]): ReportQuery {
  const today = new Date()
  const year = query.get('year')
  const fallbackUnit =
    currentSession()?.user.scopeUnitId ?? units.find((u) => u.parentId === null)?.id ?? units[0]?.id ?? ''
  return {
    unitId: query.get('unitId') ?? fallbackUnit,
    from: query.get('from') ?? isoDate(new Date(today.getFullYear(), today.getMonth(), 1)),
    to: query.get('to') ?? isoDate(today),
    year: year && /^\d{4}$/.test(year) ? Number(year) : null,
  }
}

export function ReportsPage({ query }: PageProps) {
  const units = useData(() => get<{ units: Unit[] }>('/api/units'), [])
  if (!units.data) return units.error ? <ErrorBox error={units.error} onRetry={units.reload} /> : <Loading />
  return <ReportView query={readQuery(query, units.data.units)} units={units.data.units} />
}

function ReportView({ query, units }: { query: ReportQuery; units: Unit[] }) {
  const [form, setForm] = useState(query)
  const [formError, setFormError] = useState<string | null>(null)
  const key = JSON.stringify(query)
  const report = useData(() => loadReport(query), [key])
  const thisYear = new Date().getFullYear()
  const go = (q: ReportQuery) =>
    navigate(
      `/reports${qs(q.year !== null ? { unitId: q.unitId, year: q.year } : { unitId: q.unitId, from: q.from, to: q.to })}`,
    )
  const submit = (e: Event) => {
    e.preventDefault()
    if (form.from > form.to) return setFormError(tr('badRange'))
    setFormError(null)
    go({ ...form, year: null })
  }
  return (
    <section data-testid="reports-page">
      <h1>{tr('title')}</h1>
      <form class="card row no-print" onSubmit={submit}>
        <Field label={tr('unit')}>
          {(id) => (
            <select
              id={id}
              name="unitId"
              value={form.unitId}
              onChange={(e) => setForm({ ...form, unitId: e.currentTarget.value })}
            >
              {units.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={tr('from')} error={formError}>
          {(id) => (
            <input
              id={id}
              name="from"
              type="date"
              value={form.from}
              onInput={(e) => setForm({ ...form, from: e.currentTarget.value })}
            />
          )}
        </Field>
        <Field label={tr('to')}>
          {(id) => (
            <input
              id={id}
              name="to"
              type="date"
              value={form.to}
              onInput={(e) => setForm({ ...form, to: e.currentTarget.value })}
            />
          )}
        </Field>
        <div class="field">
          <Button kind="primary" type="submit" data-testid="show-report">
            {tr('show')}
          </Button>
        </div>
        <div class="field">
          <Button onClick={() => go({ ...form, year: thisYear })} data-testid="yearly-report">
            {tr('yearly', { year: thisYear })}
          </Button>
        </div>
      </form>
      {report.data ? (
        <ReportBody report={report.data} query={query} />
      ) : report.error ? (
        <ErrorBox error={report.error} onRetry={report.reload} />
      ) : (
        <Loading />
      )}
    </section>
  )
}

function ReportBody({ report, query }: { report: Report; query: ReportQuery }) {
  const chart = useMemo(() => {
    const points = query.year !== null ? byMonth(report.series) : report.series
    return {
      x: points.map((_, i) => i),
      categories: points.map((p) => (query.year !== null ? p.date.slice(5, 7) : p.date.slice(5))),
      series: [
        { label: tr('successfulPlays'), color: '#0b5cad', values: points.map((p) => p.successfulPlays) },
        {
          label: tr('minutesPlayed'),
          color: '#1b7f3b',
          values: points.map((p) => Math.round(p.minutesPlayed)),
        },
      ],
    }
  }, [report, query.year])
  const t = report.totals
  return (
    <>
      <h2 data-testid="report-title">
        {query.year !== null
          ? tr('yearlyTitle', { year: query.year, unit: report.unit.name })
          : tr('period', { unit: report.unit.name, from: report.from, to: report.to })}
      </h2>
      {query.year !== null ? <p class="muted">{tr('yearlyHelp')}</p> : null}
      <div class="row no-print section">
        <a class="btn btn-primary" href={csvUrl(query)} download data-testid="report-csv">
          {tr('csv')}
        </a>
        <Button onClick={() => window.print()}>{tr('print')}</Button>
      </div>
      <div class="grid section" data-testid="report-totals">
        <div class="card stat">
          <b data-testid="total-successfulPlays">{num(t.successfulPlays)}</b>
          {tr('successfulPlays')}
        </div>
        <div class="card stat">
          <b data-testid="total-minutesPlayed">{num(t.minutesPlayed, 1)}</b>
          {tr('minutesPlayed')}
        </div>
        <div class="card stat">
          <b>{num(t.emergencyBulletins)}</b>
          {tr('emergencyBulletins')}
        </div>
        <div class="card stat">
          <b>{pct(t.availabilityPct)}</b>
          {tr('availabilityPct')}
        </div>
      </div>
      <div class="section">
        <Table<ReportFigures>
          testId="report-table"
          rows={[...report.rows, { ...t, name: tr('total'), unitId: '__total' }]}
          rowKey={(r) => r.unitId}
          columns={columns()}
        />
      </div>
      <h2>{query.year !== null ? tr('chartMonth') : tr('chart')}</h2>
      {chart.x.length > 0 ? (
        <Chart
          x={chart.x}
          categories={chart.categories}
          series={chart.series}
          bars
          height={220}
          label={tr('chartLabel')}
          testId="report-chart"
        />
      ) : null}
    </>
  )
}
