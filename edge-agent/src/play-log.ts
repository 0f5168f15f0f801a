import type { PlayReportBody } from '@loa/shared'
import type { Db } from './db.js'
import type { Outbox } from './outbox.js'

/**
 * The play's `attempt`: how many reports of the same item of the same occurrence this box already holds. With
 * (device, scheduleId, occurrence, sha256) it names the play whatever its envelope id, so a box that lost its WAL
 * (or its whole database) and reports a play again gives it the name it had the first time. Fallback fill has no
 * occurrence, hence no name.
 */
function attemptOf(db: Db, r: PlayReportBody): number | undefined {
  if (r.scheduleId === null || r.occurrence === null) return undefined
  const row = db
    .prepare('SELECT count(*) AS n FROM plays WHERE schedule_id = ? AND occurrence = ? AND sha256 = ?')
    .get(r.scheduleId, r.occurrence, r.sha256) as { n: number }
  return row.n
}

/** Writes one play report to table `plays` and to the outbox; call inside the transaction that caused it. */
export function recordPlay(db: Db, outbox: Outbox, report: PlayReportBody): string {
  const attempt = attemptOf(db, report)
  const r: PlayReportBody = attempt === undefined ? report : { ...report, attempt }
  const id = outbox.enqueue('play', r)
  db.prepare(
    `INSERT INTO plays (report_id, schedule_id, title, sha256, level, priority, fallback, occurrence, status, reason,
       relay_on_at, started_at, ended_at, relay_off_at, duration_ms, attempt)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    r.scheduleId,
    r.title,
    r.sha256,
    r.level,
    r.priority,
    r.fallback ? 1 : 0,
    r.occurrence,
    r.status,
    r.reason ?? null,
    r.relayOnAt,
    r.startedAt,
    r.endedAt,
    r.relayOffAt,
    r.durationMs,
    attempt ?? null,
  )
  return id
}

/** Whether this box already holds a report of the occurrence (any item, any status). */
export function occurrenceReported(db: Db, scheduleId: string, occurrence: string): boolean {
  return (
    db
      .prepare('SELECT 1 FROM plays WHERE schedule_id = ? AND occurrence = ? LIMIT 1')
      .get(scheduleId, occurrence) !== undefined
  )
}
