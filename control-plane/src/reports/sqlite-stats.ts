import type { Db } from '../storage/db.js'
import type { PresenceChange } from '../uplink/model.js'
import type {
  PlayDayRow,
  PresenceRepository,
  ReportRepository,
  RequestedDayRow,
  RequestedLedgerRepository,
} from './repository.js'

/** When a play happened: its start, else its scheduled occurrence, else when it was reported. */
const PLAY_AT = 'coalesce(p.started_at, p.occurrence, p.received_at)'

export function sqlitePresence(db: Db): PresenceRepository {
  return {
    async history(clusterIds, from, to) {
      const ids = JSON.stringify(clusterIds)
      const before = db
        .prepare(`SELECT h.cluster_id, h.at, h.online FROM presence_history h
          JOIN (SELECT cluster_id, max(at) AS at FROM presence_history
                WHERE cluster_id IN (SELECT value FROM json_each(?)) AND at < ? GROUP BY cluster_id) l
            ON l.cluster_id = h.cluster_id AND l.at = h.at`)
        .all(ids, from) as { cluster_id: string; at: string; online: number }[]
      const within = db
        .prepare(`SELECT cluster_id, at, online FROM presence_history
          WHERE cluster_id IN (SELECT value FROM json_each(?)) AND at >= ? AND at < ? ORDER BY at, rowid`)
        .all(ids, from, to) as { cluster_id: string; at: string; online: number }[]
      return [...before, ...within].map(
        (r): PresenceChange => ({ clusterId: r.cluster_id, at: r.at, online: r.online === 1 }),
      )
    },
  }
}

export function sqliteReports(db: Db): ReportRepository {
  return {
    async playDays(clusterIds, from, to, utcOffsetMin) {
      const rows = db
        .prepare(`SELECT p.cluster_id, date(datetime(${PLAY_AT}, ? || ' minutes')) AS day, p.level, p.status,
            count(*) AS plays, sum(p.duration_ms) AS duration_ms
          FROM plays p
          WHERE p.cluster_id IN (SELECT value FROM json_each(?)) AND p.fallback = 0
            AND ${PLAY_AT} >= ? AND ${PLAY_AT} < ?
          GROUP BY p.cluster_id, day, p.level, p.status`)
        .all(`${utcOffsetMin >= 0 ? '+' : ''}${utcOffsetMin}`, JSON.stringify(clusterIds), from, to) as {
        cluster_id: string
        day: string
        level: PlayDayRow['level']
        status: string
        plays: number
        duration_ms: number
      }[]
      return rows.map((r) => ({
        clusterId: r.cluster_id,
        day: r.day,
        level: r.level,
        status: r.status,
        plays: r.plays,
        durationMs: r.duration_ms ?? 0,
      }))
    },
    async playedMedia(clusterIds, from, to) {
      const rows = db
        .prepare(`SELECT p.cluster_id, p.sha256,
            max(CASE p.level WHEN 'emergency' THEN 2 WHEN 'priority' THEN 1 ELSE 0 END) AS rank FROM plays p
          WHERE p.cluster_id IN (SELECT value FROM json_each(?)) AND p.fallback = 0 AND p.status = 'played'
            AND ${PLAY_AT} >= ? AND ${PLAY_AT} < ?
          GROUP BY p.cluster_id, p.sha256`)
        .all(JSON.stringify(clusterIds), from, to) as {
        cluster_id: string
        sha256: string
        rank: number
      }[]
      const levels = ['normal', 'priority', 'emergency'] as const
      return rows.map((r) => ({
        clusterId: r.cluster_id,
        sha256: r.sha256,
        level: levels[r.rank] ?? 'normal',
      }))
    },
    async recentFaults(since) {
      const rows = db
        .prepare(`SELECT cluster_id, at, kind, message, severity FROM events
          WHERE source = 'device' AND severity = 'error' AND cluster_id IS NOT NULL AND received_at >= ?
          ORDER BY at DESC LIMIT 10000`)
        .all(since) as { cluster_id: string; at: string; kind: string; message: string; severity: string }[]
      return rows.map((r) => ({
        clusterId: r.cluster_id,
        at: r.at,
        kind: r.kind,
        message: r.message,
        severity: r.severity,
      }))
    },
    async telemetryBetween(clusterId, from, to, limit) {
      const rows = db
        .prepare(`SELECT at, body FROM telemetry WHERE cluster_id = ? AND at >= ? AND at < ?
          ORDER BY at LIMIT ?`)
        .all(clusterId, from, to, limit) as { at: string; body: string }[]
      return rows.map((r) => ({ at: r.at, body: JSON.parse(r.body) }))
    },
  }
}

export function sqliteRequested(db: Db): RequestedLedgerRepository {
  const add = db.prepare(`INSERT INTO requested_days (cluster_id, day, schedule_id, requested_ms, occurrences)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (cluster_id, day, schedule_id) DO UPDATE SET
      requested_ms = requested_ms + excluded.requested_ms, occurrences = occurrences + excluded.occurrences`)
  const close = db.transaction(
    (rows: RequestedDayRow[], span: { startedAt: string; through: string }, expected: string | null) => {
      const current = db.prepare('SELECT through FROM requested_ledger WHERE id = 1').get() as
        | { through: string }
        | undefined
      if ((current?.through ?? null) !== expected) return false
      for (const r of rows) add.run(r.clusterId, r.day, r.scheduleId, r.requestedMs, r.occurrences)
      db.prepare(`INSERT INTO requested_ledger (id, started_at, through) VALUES (1, ?, ?)
        ON CONFLICT (id) DO UPDATE SET through = excluded.through`).run(span.startedAt, span.through)
      return true
    },
  )
  return {
    async span() {
      const r = db.prepare('SELECT started_at, through FROM requested_ledger WHERE id = 1').get() as
        | { started_at: string; through: string }
        | undefined
      return r ? { startedAt: r.started_at, through: r.through } : null
    },
    async close(rows, span, expectedThrough) {
      return close(rows, span, expectedThrough)
    },
    async days(clusterIds, fromDay, toDay) {
      const rows = db
        .prepare(`SELECT cluster_id, day, schedule_id, requested_ms, occurrences FROM requested_days
          WHERE cluster_id IN (SELECT value FROM json_each(?)) AND day >= ? AND day <= ?`)
        .all(JSON.stringify(clusterIds), fromDay, toDay) as {
        cluster_id: string
        day: string
        schedule_id: string
        requested_ms: number
        occurrences: number
      }[]
      return rows.map((r) => ({
        clusterId: r.cluster_id,
        day: r.day,
        scheduleId: r.schedule_id,
        requestedMs: r.requested_ms,
        occurrences: r.occurrences,
      }))
    },
  }
}
