import type { PlayReportBody } from '@loa/shared'
import type { Db } from './db.js'
import type { Outbox } from './outbox.js'

/** Writes one play report to table `plays` and to the outbox; call inside the transaction that caused it. */
export function recordPlay(db: Db, outbox: Outbox, r: PlayReportBody): string {
  const id = outbox.enqueue('play', r)
  db.prepare(
    `INSERT INTO plays (report_id, schedule_id, title, sha256, level, priority, fallback, occurrence, status, reason,
       relay_on_at, started_at, ended_at, relay_off_at, duration_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
  )
  return id
}
