/**
 * Version 7: the requested-minutes ledger (reports/requested-ledger.ts). Kept in its own file so storage/migrations/index.ts stays the
 * list of the first six versions.
 */
export const REQUESTED_LEDGER_MIGRATION = {
  version: 7,
  name: 'requested-minutes ledger',
  sql: `
-- What each cluster was asked to play, per local day and schedule, written as time passes: a report's requested
-- minutes keep counting a schedule that was later deleted, disabled, retargeted or edited.
CREATE TABLE requested_days (
  cluster_id TEXT NOT NULL,
  day TEXT NOT NULL,
  schedule_id TEXT NOT NULL,
  requested_ms INTEGER NOT NULL,
  occurrences INTEGER NOT NULL,
  PRIMARY KEY (cluster_id, day, schedule_id)
) WITHOUT ROWID;
CREATE INDEX requested_days_day ON requested_days(day);

-- One row: the ledger covers occurrences starting in [started_at, through).
CREATE TABLE requested_ledger (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  started_at TEXT NOT NULL,
  through TEXT NOT NULL
);
`,
}
