import { DateTime } from 'luxon'
import type { Services } from '../context.js'
import { communeGrouper, isCommune } from '../org/commune-of.js'
import type { Cluster } from '../org/model.js'
import { notFound } from '../server/errors.js'
import type { PresenceChange } from '../uplink/model.js'
import { requestedDays } from './requested-ledger.js'

/**
 * The figures the ministry asks of a unit for a period (docs/reports.md): per commune and in total, plus a series per
 * local day for the chart. Plays come from proof of play; requested minutes from the schedules (and alerts) as the
 * clusters received them; availability from the presence history.
 */

export interface ReportFigures {
  unitId: string
  name: string
  clusters: number
  bulletins: number
  plays: number
  successfulPlays: number
  failedPlays: number
  emergencyBulletins: number
  minutesPlayed: number
  minutesRequested: number
  /** minutesPlayed / minutesRequested (0–1+), null when nothing was requested. */
  playedRatio: number | null
  /** Online time over the period, %; null for a unit without clusters. */
  availabilityPct: number | null
}

export interface ReportDay {
  date: string
  plays: number
  successfulPlays: number
  minutesPlayed: number
  minutesRequested: number
  availabilityPct: number | null
}

export interface Report {
  unit: { id: string; name: string }
  from: string
  to: string
  timezone: string
  totals: ReportFigures
  rows: ReportFigures[]
  series: ReportDay[]
}

/** Counters of one group or one day, in milliseconds until rounded. */
class Tally {
  clusters = 0
  plays = 0
  successfulPlays = 0
  failedPlays = 0
  playedMs = 0
  requestedMs = 0
  onlineMs = 0
  windowMs = 0
  readonly media = new Set<string>()
  readonly emergencyMedia = new Set<string>()
}

const round1 = (n: number) => Math.round(n * 10) / 10
const minutes = (ms: number) => round1(ms / 60_000)
const pct = (t: Tally) => (t.windowMs > 0 ? round1((100 * t.onlineMs) / t.windowMs) : null)

function figures(unitId: string, name: string, t: Tally): ReportFigures {
  return {
    unitId,
    name,
    clusters: t.clusters,
    bulletins: t.media.size,
    plays: t.plays,
    successfulPlays: t.successfulPlays,
    failedPlays: t.failedPlays,
    emergencyBulletins: t.emergencyMedia.size,
    minutesPlayed: minutes(t.playedMs),
    minutesRequested: minutes(t.requestedMs),
    playedRatio: t.requestedMs > 0 ? Math.round((1000 * t.playedMs) / t.requestedMs) / 1000 : null,
    availabilityPct: pct(t),
  }
}

/** Online milliseconds of one cluster per local day in [from, to), from its presence transitions. */
function onlineByDay(
  changes: PresenceChange[],
  from: number,
  to: number,
  tz: string,
  add: (day: string, onlineMs: number, windowMs: number) => void,
): void {
  const local = (t: number) => DateTime.fromMillis(t, { zone: tz })
  let online = false
  let i = 0
  const sorted = [...changes].sort((a, b) => a.at.localeCompare(b.at))
  while (i < sorted.length && Date.parse((sorted[i] as PresenceChange).at) < from)
    online = (sorted[i++] as PresenceChange).online
  let t = from
  while (t < to) {
    const nextChange =
      i < sorted.length ? Date.parse((sorted[i] as PresenceChange).at) : Number.POSITIVE_INFINITY
    const dayEnd = local(t).startOf('day').plus({ days: 1 }).toMillis()
    const end = Math.min(to, nextChange, dayEnd)
    if (end > t) add(local(t).toISODate() as string, online ? end - t : 0, end - t)
    t = Math.max(end, t + 1)
    if (end === nextChange) online = (sorted[i++] as PresenceChange).online
  }
}

export async function buildReport(
  s: Pick<Services, 'config' | 'repos'>,
  unitId: string,
  from: Date,
  to: Date,
): Promise<Report> {
  const { repos } = s
  const tz = s.config.timezone
  const root = await repos.units.get(unitId)
  if (!root) throw notFound('unit', unitId)
  const units = await repos.units.list()
  const subtree = new Set(await repos.units.subtreeIds(unitId))
  const clusters: Cluster[] = await repos.clusters.list({ unitIds: [...subtree] })
  const groupOf = communeGrouper(unitId, units)
  const unitName = new Map(units.map((u) => [u.id, u.name]))
  const clusterGroup = new Map(clusters.map((c) => [c.id, groupOf(c.unitId)]))
  const ids = clusters.map((c) => c.id)
  const now = Date.now()
  const lo = from.getTime()
  const hi = Math.min(to.getTime(), now)
  const dayOf = (t: number) => DateTime.fromMillis(t, { zone: tz }).toISODate() as string

  const groups = new Map<string, Tally>()
  const group = (id: string) => {
    let t = groups.get(id)
    if (!t) {
      t = new Tally()
      groups.set(id, t)
    }
    return t
  }
  // Every commune of the subtree gets a row, even one without clusters or plays.
  for (const u of units) if (subtree.has(u.id) && isCommune(u) && groupOf(u.id) === u.id) group(u.id)
  const days = new Map<string, Tally>()
  for (
    let d = DateTime.fromJSDate(from, { zone: tz }).startOf('day');
    d.toMillis() < to.getTime();
    d = d.plus({ days: 1 })
  ) {
    days.set(d.toISODate() as string, new Tally())
  }
  const day = (d: string) => days.get(d)
  const total = new Tally()
  total.clusters = clusters.length
  for (const c of clusters) group(clusterGroup.get(c.id) as string).clusters++

  const offset = DateTime.fromJSDate(from, { zone: tz }).offset
  for (const r of await repos.reports.playDays(ids, from.toISOString(), to.toISOString(), offset)) {
    const aired = r.status === 'played' || r.status === 'interrupted' ? r.durationMs : 0
    for (const t of [group(clusterGroup.get(r.clusterId) as string), total, day(r.day)]) {
      if (!t) continue
      t.plays += r.plays
      if (r.status === 'played') t.successfulPlays += r.plays
      if (r.status === 'failed') t.failedPlays += r.plays
      t.playedMs += aired
    }
  }
  for (const m of await repos.reports.playedMedia(ids, from.toISOString(), to.toISOString())) {
    for (const t of [group(clusterGroup.get(m.clusterId) as string), total]) {
      t.media.add(m.sha256)
      if (m.level === 'emergency') t.emergencyMedia.add(m.sha256)
    }
  }

  // Requested: every scheduled occurrence up to now, as each cluster received it at the time (the ledger; relays
  // are not proof-of-play).
  if (hi > lo && ids.length > 0) {
    for (const r of await requestedDays(s, ids, from, new Date(hi))) {
      const g = clusterGroup.get(r.clusterId)
      if (g === undefined) continue
      group(g).requestedMs += r.requestedMs
      total.requestedMs += r.requestedMs
      const d = day(r.day)
      if (d) d.requestedMs += r.requestedMs
    }
    // Alerts raised in the period: their items, repeated, on each targeted cluster of the unit.
    const inUnit = new Set(ids)
    for (const a of await repos.alerts.list({ limit: 100_000 })) {
      const at = Date.parse(a.startsAt)
      if (at < lo || at >= hi) continue
      const ms = a.items.reduce((sum, m) => sum + m.durationMs, 0) * a.repeat
      const d = day(dayOf(at))
      for (const c of await repos.alerts.targetIds(a.id)) {
        if (!inUnit.has(c)) continue
        group(clusterGroup.get(c) as string).requestedMs += ms
        total.requestedMs += ms
        if (d) d.requestedMs += ms
      }
    }
    // Availability: online time over the part of the period each cluster existed.
    const history = await repos.presence.history(ids, from.toISOString(), new Date(hi).toISOString())
    const byCluster = new Map<string, PresenceChange[]>()
    for (const h of history) byCluster.set(h.clusterId, [...(byCluster.get(h.clusterId) ?? []), h])
    for (const c of clusters) {
      const start = Math.max(lo, Date.parse(c.createdAt))
      if (start >= hi) continue
      const g = group(clusterGroup.get(c.id) as string)
      onlineByDay(byCluster.get(c.id) ?? [], start, hi, tz, (d, on, win) => {
        for (const t of [g, total, day(d)]) {
          if (!t) continue
          t.onlineMs += on
          t.windowMs += win
        }
      })
    }
  }

  const rows = [...groups.entries()]
    .map(([id, t]) => figures(id, unitName.get(id) ?? id, t))
    .sort((a, b) => a.name.localeCompare(b.name, 'vi'))
  return {
    unit: { id: root.id, name: root.name },
    from: from.toISOString(),
    to: to.toISOString(),
    timezone: tz,
    totals: figures(root.id, root.name, total),
    rows,
    series: [...days.entries()].map(([date, t]) => ({
      date,
      plays: t.plays,
      successfulPlays: t.successfulPlays,
      minutesPlayed: minutes(t.playedMs),
      minutesRequested: minutes(t.requestedMs),
      availabilityPct: pct(t),
    })),
  }
}
