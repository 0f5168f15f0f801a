import { useMemo } from 'preact/hooks'
import { t } from '../common.i18n'
import { formatAgo, formatDateTime } from '../i18n'
import { setQuery } from '../router'
import { type ClusterState, StatusBadge } from '../ui/badge'
import { ClusterMap, type MapPoint } from '../ui/cluster-map'
import { ErrorBox, Loading } from '../ui/states'
import { Table } from '../ui/table'
import { useData } from '../ui/use-data'
import { td } from './dashboard.i18n'
import { type ClusterRow, type CommuneRow, type DashboardData, loadDashboard } from './dashboard-data'
import type { PageProps } from './types'

const STATES: ClusterState[] = ['online', 'playing', 'offline', 'fault']
const REFRESH_MS = 15_000

export function DashboardPage({ query }: PageProps) {
  const d = useData(loadDashboard, [], REFRESH_MS)
  if (!d.data) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const filter = query.get('state') as ClusterState | null
  return (
    <section>
      <h1>{td('title')}</h1>
      {d.error ? <ErrorBox error={d.error} /> : null}
      <Stats data={d.data} filter={filter} />
      <Alerts alerts={d.data.alerts} />
      <MapSection clusters={d.data.clusters} />
      <h2>{td('communes')}</h2>
      <Table<CommuneRow>
        testId="communes"
        rows={d.data.communes}
        rowKey={(r) => r.id}
        columns={[
          { key: 'name', label: td('commune'), render: (r) => r.name },
          { key: 'total', label: td('total'), numeric: true, render: (r) => r.total },
          ...STATES.map((s) => ({
            key: s,
            label: t(`state.${s}`),
            numeric: true,
            render: (r: CommuneRow) => r.counts[s],
          })),
        ]}
      />
      <h2>{td('clusters')}</h2>
      <Table<ClusterRow>
        testId="clusters"
        rows={d.data.clusters.filter((c) => !filter || c.state === filter)}
        rowKey={(r) => r.id}
        columns={[
          {
            key: 'name',
            label: td('name'),
            render: (r) => <a href={`/clusters/${encodeURIComponent(r.id)}`}>{r.name}</a>,
          },
          { key: 'state', label: td('state'), render: (r) => <StatusBadge state={r.state} /> },
          { key: 'unit', label: td('unit'), wide: true, render: (r) => r.unitName },
          { key: 'lastSeen', label: td('lastSeen'), wide: true, render: (r) => formatAgo(r.lastSeenAt) },
          { key: 'playing', label: td('nowPlaying'), wide: true, render: (r) => r.nowPlaying?.title ?? '' },
        ]}
      />
      <p class="muted">{td('updated', { time: formatDateTime(d.data.at) })}</p>
    </section>
  )
}

function Stats({ data, filter }: { data: DashboardData; filter: ClusterState | null }) {
  return (
    <div class="grid" data-testid="stats">
      <button
        type="button"
        class={`card stat${filter ? '' : ' selected'}`}
        onClick={() => setQuery('state', null)}
      >
        <b data-testid="count-total">{data.clusters.length}</b>
        {td('total')}
      </button>
      {STATES.map((s) => (
        <button
          type="button"
          key={s}
          class={`card stat stat-${s}${filter === s ? ' selected' : ''}`}
          onClick={() => setQuery('state', filter === s ? null : s)}
        >
          <b data-testid={`count-${s}`}>{data.counts[s]}</b>
          {t(`state.${s}`)}
        </button>
      ))}
    </div>
  )
}

function Alerts({ alerts }: { alerts: DashboardData['alerts'] }) {
  return (
    <>
      <h2>{td('alerts')}</h2>
      {alerts.length === 0 ? (
        <p class="muted">{td('noAlerts')}</p>
      ) : (
        <ul class="alerts-list" data-testid="alerts">
          {alerts.map((a) => (
            <li
              key={`${a.kind}-${a.clusterId}`}
              class={a.kind === 'fault' ? 'bad' : undefined}
              data-cluster={a.clusterId}
            >
              <a href={`/clusters/${encodeURIComponent(a.clusterId)}`}>
                {a.kind === 'fault'
                  ? td('faulty', { name: a.name, message: a.message })
                  : a.since
                    ? td('offlineFor', { name: a.name, ago: formatAgo(a.since) })
                    : td('offlineNever', { name: a.name })}
              </a>
            </li>
          ))}
        </ul>
      )}
    </>
  )
}

function MapSection({ clusters }: { clusters: ClusterRow[] }) {
  // Same positions and states → same array, so the map is not redrawn on every refresh.
  const key = clusters.map((c) => `${c.id}:${c.lat}:${c.lon}:${c.state}`).join('|')
  const points = useMemo<MapPoint[]>(
    () =>
      clusters
        .filter((c) => c.lat !== null && c.lon !== null)
        .map((c) => ({
          id: c.id,
          name: c.name,
          lat: c.lat as number,
          lon: c.lon as number,
          state: c.state,
          group: c.communeName,
          href: `/clusters/${encodeURIComponent(c.id)}`,
        })),
    [key],
  )
  const missing = clusters.length - points.length
  return (
    <>
      <h2>{td('map')}</h2>
      <ClusterMap points={points} label={td('mapLabel')} />
      {missing > 0 ? <p class="muted">{td('noPosition', { n: missing })}</p> : null}
    </>
  )
}
