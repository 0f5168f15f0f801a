/**
 * Version 11 (issue 10 §6, storage): proof of play is named by what it is. A play reported again under a new
 * envelope id — a box that lost its WAL or recovered from a damaged database plays or reports it once more — is
 * the same (cluster, schedule, occurrence, item, attempt) and is stored once. Rows without an attempt (fallback
 * fill, agents before this version) stay distinct (SQLite treats NULLs in a unique index as distinct).
 */
export const STORAGE_MIGRATION = {
  version: 11,
  name: 'plays named by cluster, schedule, occurrence, item and attempt',
  sql: `
ALTER TABLE plays ADD COLUMN attempt INTEGER;
CREATE UNIQUE INDEX plays_natural ON plays(cluster_id, schedule_id, occurrence, sha256, attempt);
`,
}
