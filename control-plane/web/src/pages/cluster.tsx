import { get } from '../api'
import { clusterState, faultyClusters } from '../clusters'
import { formatAgo, formatDateTime, formatNumber } from '../i18n'
import { recurrenceText } from '../recurrence-text'
import { can } from '../session'
import type { Cluster, DeviceEvent, Play, Unit } from '../types'
import { StatusBadge } from '../ui/badge'
import { ErrorBox, Loading } from '../ui/states'
import { Table } from '../ui/table'
import { useData } from '../ui/use-data'
import { tc } from './cluster.i18n'
import { ClusterCredentials } from './cluster-credentials'
import { ClusterTelemetry } from './cluster-telemetry'
import { ClusterTest } from './cluster-test'
import type { PageProps } from './types'

interface ScheduleEntry {
  id: string
  title: string
  level: Play['level']
  priority: number
  recurrence: Record<string, unknown> & { kind: string }
}

async function loadCluster(id: string) {
  const enc = encodeURIComponent(id)
  // The cluster first: outside the user's scope it is a 404, and nothing else is asked for.
  const cluster = await get<Cluster>(`/api/clusters/${enc}`)
  const [unit, { events }, { plays }, desired] = await Promise.all([
    get<Unit>(`/api/units/${encodeURIComponent(cluster.unitId)}`).catch(() => null),
    get<{ events: DeviceEvent[] }>(`/api/events?clusterId=${enc}&limit=100`),
    get<{ plays: Play[] }>(`/api/plays?clusterId=${enc}&limit=50`),
    get<{ schedule: ScheduleEntry[] }>(`/api/clusters/${enc}/desired-state`).catch(() => ({ schedule: [] })),
  ])
  return { cluster, unit, events, plays, schedule: desired.schedule }
}

const gb = (bytes: number | null) => (bytes === null ? '—' : `${formatNumber(bytes / 1e9, 1)} GB`)
const minutes = (ms: number) => `${formatNumber(ms / 60_000, 1)}′`

export function ClusterPage({ params }: PageProps) {
  const id = params.id ?? ''
  const d = useData(() => loadCluster(id), [id], 15_000)
  if (!d.data) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const { cluster: c, unit, events, plays, schedule } = d.data
  const state = clusterState(c, faultyClusters(events))
  return (
    <section data-testid="cluster-page" data-cluster={c.id}>
      <p>
        <a href="/">{tc('back')}</a>
      </p>
      <h1>
        {c.name} <StatusBadge state={state} />
      </h1>
      {d.error ? <ErrorBox error={d.error} /> : null}
      <div class="card">
        <dl class="kv">
          <dt>{tc('unit')}</dt>
          <dd>{unit?.name ?? c.unitId}</dd>
          <dt>{tc('lastSeen')}</dt>
          <dd>
            {formatAgo(c.lastSeenAt)} ({formatDateTime(c.lastSeenAt)})
          </dd>
          <dt>{tc('nowPlaying')}</dt>
          <dd>{c.nowPlaying?.title ?? '—'}</dd>
          <dt>{tc('relay')}</dt>
          <dd>{c.relayOn === null ? '—' : c.relayOn ? tc('relayOn') : tc('relayOff')}</dd>
          <dt>{tc('versions')}</dt>
          <dd>
            {c.appliedVersion ?? '—'} / {c.desiredVersion ?? '—'}
          </dd>
          <dt>{tc('media')}</dt>
          <dd>{c.mediaTotal === null ? '—' : `${c.mediaReady ?? 0} / ${c.mediaTotal}`}</dd>
          <dt>{tc('disk')}</dt>
          <dd>{gb(c.diskFreeBytes)}</dd>
          <dt>{tc('agentVersion')}</dt>
          <dd>{c.agentVersion ?? '—'}</dd>
          <dt>{tc('position')}</dt>
          <dd>{c.lat !== null && c.lon !== null ? `${c.lat}, ${c.lon}` : '—'}</dd>
        </dl>
      </div>
      <ClusterTest clusterId={c.id} />
      <ClusterTelemetry clusterId={c.id} />
      {can('admin-devices') ? <ClusterCredentials clusterId={c.id} name={c.name} /> : null}
      <h2>{tc('plays')}</h2>
      <Table<Play>
        testId="plays"
        rows={plays}
        rowKey={(p) => p.id}
        columns={[
          { key: 'title', label: tc('title'), render: (p) => p.title },
          {
            key: 'started',
            label: tc('started'),
            render: (p) => formatDateTime(p.startedAt ?? p.receivedAt),
          },
          { key: 'duration', label: tc('duration'), numeric: true, render: (p) => minutes(p.durationMs) },
          { key: 'status', label: tc('result'), render: (p) => tc(`status.${p.status}`) },
          { key: 'level', label: tc('level'), wide: true, render: (p) => tc(`level.${p.level}`) },
        ]}
      />
      <h2>{tc('schedule')}</h2>
      <Table<ScheduleEntry>
        testId="schedule"
        rows={schedule}
        rowKey={(s) => s.id}
        empty={tc('noSchedule')}
        columns={[
          { key: 'title', label: tc('title'), render: (s) => s.title },
          {
            key: 'when',
            label: tc('when'),
            render: (s) =>
              recurrenceText(s.recurrence, {
                once: (at) => tc('once', { at }),
                weekly: (days, times) => tc('weekly', { days, times }),
                interval: (days, from, until, n) => tc('interval', { days, from, until, n }),
                everyDay: tc('everyDay'),
              }),
          },
          { key: 'level', label: tc('level'), wide: true, render: (s) => tc(`level.${s.level}`) },
          { key: 'priority', label: tc('priority'), numeric: true, wide: true, render: (s) => s.priority },
        ]}
      />
    </section>
  )
}
