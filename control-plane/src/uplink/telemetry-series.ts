import type { Services } from '../context.js'
import { LoaError } from '../server/errors.js'
import type { TelemetryRecord } from './model.js'

/** Chart-ready figures of one heartbeat. */
function point(at: string, b: Record<string, unknown>) {
  const num = (k: string) => (typeof b[k] === 'number' ? (b[k] as number) : null)
  return {
    at,
    cpuLoad1: num('cpuLoad1'),
    memFreeBytes: num('memFreeBytes'),
    memTotalBytes: num('memTotalBytes'),
    diskFreeBytes: num('diskFreeBytes'),
    outboxPending: num('outboxPending'),
    relayOn: typeof b.relayOn === 'boolean' ? b.relayOn : null,
    playing: b.nowPlaying !== null && b.nowPlaying !== undefined,
  }
}

/**
 * A cluster's telemetry: the newest `limit` heartbeats (newest first, as before), or those in [from, to) oldest first;
 * `series` is always oldest first, for charts.
 */
export async function telemetryView(
  s: Pick<Services, 'repos'>,
  clusterId: string,
  q: { limit?: number; from?: string; to?: string },
) {
  const limit = q.limit ?? (q.from !== undefined ? 10_000 : 100)
  let telemetry: Pick<TelemetryRecord, 'at' | 'body'>[]
  if (q.from !== undefined || q.to !== undefined) {
    const from = q.from ?? new Date(0).toISOString()
    const to = q.to ?? new Date(Date.now() + 60_000).toISOString()
    if (Date.parse(to) <= Date.parse(from)) throw new LoaError('LOA_VALIDATION', 'to: must be after from')
    telemetry = (await s.repos.reports.telemetryBetween(
      clusterId,
      new Date(from).toISOString(),
      new Date(to).toISOString(),
      limit,
    )) as typeof telemetry
  } else {
    telemetry = await s.repos.ingest.listTelemetry(clusterId, limit)
  }
  const ordered = q.from !== undefined || q.to !== undefined ? telemetry : [...telemetry].reverse()
  const latest =
    q.from === undefined && q.to === undefined ? (telemetry[0]?.body ?? null) : (ordered.at(-1)?.body ?? null)
  return {
    clusterId,
    latest,
    telemetry,
    series: ordered.map((r) => point(r.at, r.body as unknown as Record<string, unknown>)),
  }
}
