/**
 * Version 6: the Circular 39 bulletin workflow, the commune inbox, programmes and the presence history. In its own
 * file, like version 7 (storage/migrations/ledger.ts), so storage/migrations/index.ts stays the list and the first five versions.
 */
export const WORKFLOW_MIGRATION = {
  version: 6,
  name: 'bulletin workflow, inbox, programmes, presence history',
  sql: `
-- Circular 39 workflow: which unit a bulletin belongs to, draft/approved, who made and approved it, its TTS text.
ALTER TABLE bulletins ADD COLUMN unit_id TEXT REFERENCES units(id) ON DELETE SET NULL;
ALTER TABLE bulletins ADD COLUMN status TEXT NOT NULL DEFAULT 'approved';
ALTER TABLE bulletins ADD COLUMN text TEXT;
ALTER TABLE bulletins ADD COLUMN voice TEXT;
ALTER TABLE bulletins ADD COLUMN created_by TEXT;
ALTER TABLE bulletins ADD COLUMN approved_by TEXT;
ALTER TABLE bulletins ADD COLUMN approved_at TEXT;

-- Per-unit workflow settings: approval step, daily broadcast slots (local HH:MM) for accepted bulletins.
CREATE TABLE unit_settings (
  unit_id TEXT PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
  requires_approval INTEGER NOT NULL DEFAULT 0,
  slots TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- A unit's programme for one broadcast slot: an ordered playlist played once by a schedule.
CREATE TABLE programmes (
  id TEXT PRIMARY KEY,
  unit_id TEXT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
  starts_at TEXT NOT NULL,
  playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
  schedule_id TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX programmes_unit ON programmes(unit_id, starts_at);

-- A bulletin sent from above to a unit's inbox.
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  bulletin_id TEXT NOT NULL REFERENCES bulletins(id) ON DELETE CASCADE,
  from_unit_id TEXT NOT NULL,
  to_unit_id TEXT NOT NULL REFERENCES units(id) ON DELETE CASCADE,
  level TEXT NOT NULL,
  state TEXT NOT NULL,
  note TEXT,
  reason TEXT,
  programme_id TEXT,
  alert_id TEXT,
  sent_by TEXT NOT NULL,
  sent_at TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  UNIQUE (bulletin_id, to_unit_id)
);
CREATE INDEX deliveries_to ON deliveries(to_unit_id, state);

-- Every online/offline transition of a cluster, whatever code path changed it: the basis of availability.
CREATE TABLE presence_history (
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  online INTEGER NOT NULL
);
CREATE INDEX presence_history_cluster ON presence_history(cluster_id, at);
CREATE TRIGGER clusters_presence_history AFTER UPDATE OF online ON clusters
WHEN NEW.online <> OLD.online BEGIN
  INSERT INTO presence_history (cluster_id, at, online) VALUES (
    NEW.id,
    CASE WHEN NEW.online = 1 AND NEW.last_seen_at IS NOT NULL THEN NEW.last_seen_at
      ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END,
    NEW.online);
END;
`,
}
