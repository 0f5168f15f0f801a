import type { AuditEntry } from '@loa/control-plane'
import { useState } from 'preact/hooks'
import { get, qs } from '../api'
import { formatDateTime } from '../i18n'
import { navigate } from '../router'
import type { Unit } from '../types'
import { Badge } from '../ui/badge'
import { Button } from '../ui/button'
import { Field } from '../ui/field'
import { ErrorBox, Loading } from '../ui/states'
import { Table } from '../ui/table'
import { useData } from '../ui/use-data'
import { ta } from './audit.i18n'
import { actionText } from './audit-actions'
import type { PageProps } from './types'

const PAGE = 100

/** Local date (yyyy-mm-dd from a date input) → the instant its day starts or ends, in the browser's zone. */
const dayStart = (d: string) => (d ? new Date(`${d}T00:00:00`).toISOString() : undefined)
const dayEnd = (d: string) => (d ? new Date(`${d}T23:59:59.999`).toISOString() : undefined)

/** The audit log (permission audit), filtered in the URL so a filtered view can be shared; CSV export. */
export function AuditPage({ query }: PageProps) {
  const filter = {
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
    action: query.get('action') ?? '',
    unit: query.get('unit') ?? '',
  }
  const offset = Number(query.get('offset') ?? 0) || 0
  const [form, setForm] = useState(filter)
  const apiQuery = {
    from: dayStart(filter.from),
    to: dayEnd(filter.to),
    action: filter.action || undefined,
    unit: filter.unit || undefined,
  }
  const d = useData(async () => {
    const [log, units] = await Promise.all([
      get<{ entries: AuditEntry[]; total: number }>(`/api/audit${qs({ ...apiQuery, limit: PAGE, offset })}`),
      get<{ units: Unit[] }>('/api/units'),
    ])
    return { ...log, units: units.units }
  }, [query.toString()])
  const go = (f: typeof filter, off = 0) => navigate(`/audit${qs({ ...f, offset: off || undefined })}`)
  if (!d.data) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const units = new Map(d.data.units.map((u) => [u.id, u.name]))
  return (
    <section data-testid="audit-page">
      <h1>{ta('title')}</h1>
      <form
        class="card row"
        onSubmit={(e) => {
          e.preventDefault()
          go(form)
        }}
      >
        <Field label={ta('from')}>
          {(id) => (
            <input
              id={id}
              type="date"
              value={form.from}
              onInput={(e) => setForm({ ...form, from: e.currentTarget.value })}
            />
          )}
        </Field>
        <Field label={ta('to')}>
          {(id) => (
            <input
              id={id}
              type="date"
              value={form.to}
              onInput={(e) => setForm({ ...form, to: e.currentTarget.value })}
            />
          )}
        </Field>
        <Field label={ta('action')}>
          {(id) => (
            <input
              id={id}
              value={form.action}
              placeholder="alert.create"
              onInput={(e) => setForm({ ...form, action: e.currentTarget.value })}
            />
          )}
        </Field>
        <Field label={ta('unit')}>
          {(id) => (
            <select
              id={id}
              value={form.unit}
              onChange={(e) => setForm({ ...form, unit: e.currentTarget.value })}
            >
              <option value="">{ta('allUnits')}</option>
              {d.data?.units.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div class="field">
          <Button kind="primary" type="submit">
            {ta('filter')}
          </Button>
        </div>
        <div class="field">
          <a
            class="btn"
            href={`/api/audit.csv${qs(apiQuery)}`}
            download="loa-audit.csv"
            data-testid="audit-csv"
          >
            {ta('export')}
          </a>
        </div>
      </form>
      <p class="muted">{ta('total', { n: d.data.total })}</p>
      <Table<AuditEntry>
        testId="audit"
        rows={d.data.entries}
        rowKey={(e) => String(e.id)}
        columns={[
          { key: 'at', label: ta('at'), render: (e) => formatDateTime(e.at) },
          { key: 'actor', label: ta('actor'), render: (e) => e.actorName },
          {
            key: 'action',
            label: ta('action'),
            render: (e) => (
              <span title={e.action} data-action={e.action}>
                {actionText(e.action)}
              </span>
            ),
          },
          {
            key: 'target',
            label: ta('target'),
            wide: true,
            render: (e) => [e.targetType, e.targetId].filter(Boolean).join(' '),
          },
          {
            key: 'unit',
            label: ta('unit'),
            wide: true,
            render: (e) => (e.unitId ? (units.get(e.unitId) ?? e.unitId) : ''),
          },
          {
            key: 'outcome',
            label: ta('outcome'),
            render: (e) =>
              e.outcome < 400 ? (
                <Badge tone="ok">{ta('ok')}</Badge>
              ) : (
                <Badge tone="bad">{ta('refused', { code: e.outcome })}</Badge>
              ),
          },
          {
            key: 'details',
            label: ta('details'),
            wide: true,
            render: (e) => (e.details ? <small>{JSON.stringify(e.details)}</small> : ''),
          },
        ]}
      />
      <div class="row section">
        <Button disabled={offset === 0} onClick={() => go(filter, Math.max(0, offset - PAGE))}>
          {ta('prev')}
        </Button>
        <Button disabled={offset + PAGE >= d.data.total} onClick={() => go(filter, offset + PAGE)}>
          {ta('next')}
        </Button>
      </div>
    </section>
  )
}
