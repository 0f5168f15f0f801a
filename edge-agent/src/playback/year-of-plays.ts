import type { Db } from '../storage/db.js'

/** Minutes in a (non-leap) year: one every-minute occurrence each. */
export const MINUTES_IN_YEAR = 365 * 24 * 60

/**
 * Test and benchmark data (prune.test.ts, scripts/src/bench/agent-db.ts): a year of an every-minute schedule as a
 * box logs it, from `start` — one play row (report id `r-<8 digits>`) and two amplifier switch log rows per minute,
 * generated in SQL (seconds, not minutes). Every play counts as receipted except the `unreceipted` minutes, which keep an
 * outbox entry.
 */
export function yearOfPlays(db: Db, start: number, unreceipted: readonly number[] = []): void {
  const t0 = Math.floor(start / 1000)
  const at = (plusS: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${t0} + ${plusS}, 'unixepoch')`
  db.exec(`
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${MINUTES_IN_YEAR - 1})
    INSERT INTO plays (report_id, schedule_id, title, sha256, level, priority, fallback, occurrence, status,
      reason, relay_on_at, started_at, ended_at, relay_off_at, duration_ms, attempt)
    SELECT printf('r-%08d', i), 'every-minute', 'Bản tin thời sự buổi sáng', printf('%064d', i % 50), 'normal', 50,
      0, ${at('i * 60')}, 'played', NULL, ${at('i * 60')}, ${at('i * 60')}, ${at('i * 60 + 30')},
      ${at('i * 60 + 31')}, 30000, 0
    FROM n;
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${2 * MINUTES_IN_YEAR - 1})
    INSERT INTO relay_log (at, "on") SELECT ${at('(i / 2) * 60 + (i % 2) * 31')}, 1 - i % 2 FROM n;
  `)
  const add = db.prepare(
    "INSERT INTO outbox (id, channel, body, created_at) VALUES (?, 'play', '{}', '2026-01-01T00:00:00Z')",
  )
  db.transaction(() => {
    for (const i of unreceipted) add.run(`r-${String(i).padStart(8, '0')}`)
  })()
}
