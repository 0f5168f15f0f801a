import { useMemo } from 'preact/hooks'
import { get } from '../api'
import type { Telemetry } from '../types'
import { Chart, type ChartSeries } from '../ui/chart'
import { useData } from '../ui/use-data'
import { tc } from './cluster.i18n'

interface TelemetryAnswer {
  telemetry: { at: string; body: Telemetry }[]
}

/** CPU, memory and disk over the last telemetry reports (every few minutes from the agent). */
export function ClusterTelemetry({ clusterId }: { clusterId: string }) {
  const d = useData(
    () => get<TelemetryAnswer>(`/api/clusters/${encodeURIComponent(clusterId)}/telemetry?limit=500`),
    [clusterId],
    60_000,
  )
  const charts = useMemo(() => {
    const rows = [...(d.data?.telemetry ?? [])].reverse()
    const x = rows.map((r) => Date.parse(r.at) / 1000)
    const pick = (f: (t: Telemetry) => number): (number | null)[] =>
      rows.map((r) => {
        const v = f(r.body)
        return Number.isFinite(v) ? Math.round(v * 100) / 100 : null
      })
    const one = (label: string, color: string, values: (number | null)[]): ChartSeries[] => [
      { label, color, values },
    ]
    return {
      x,
      cpu: one(
        tc('cpu'),
        '#0b5cad',
        pick((t) => t.cpuLoad1),
      ),
      mem: one(
        tc('mem'),
        '#6a3fb3',
        pick((t) => (100 * (t.memTotalBytes - t.memFreeBytes)) / t.memTotalBytes),
      ),
      disk: one(
        tc('diskFree'),
        '#1b7f3b',
        pick((t) => t.diskFreeBytes / 1e9),
      ),
    }
  }, [d.data])
  return (
    <>
      <h2>{tc('telemetry')}</h2>
      {charts.x.length === 0 ? (
        <p class="muted">{tc('noTelemetry')}</p>
      ) : (
        <div class="charts" data-testid="telemetry">
          <Chart x={charts.x} series={charts.cpu} label={tc('cpu')} height={160} />
          <Chart x={charts.x} series={charts.mem} label={tc('mem')} height={160} />
          <Chart x={charts.x} series={charts.disk} label={tc('diskFree')} height={160} />
        </div>
      )}
    </>
  )
}
