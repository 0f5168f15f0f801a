import { CAP_MIGRATION } from './cap.js'
import { REQUESTED_LEDGER_MIGRATION } from './ledger.js'
import { RECIPIENTS_MIGRATION } from './recipients.js'
import { STORAGE_MIGRATION } from './storage.js'
import { WEB_SCOPE_MIGRATION } from './web.js'
import { WORKFLOW_MIGRATION } from './workflow.js'

/**
 * Numbered migrations, applied in order and recorded in `schema_migrations`. Never edit a released one: add the next.
 * JSON columns hold small value objects (zones, tags, recurrence); anything queried on has its own column.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'core broadcast loop',
    sql: `
CREATE TABLE units (
  id TEXT PRIMARY KEY,
  parent_id TEXT REFERENCES units(id) ON DELETE RESTRICT,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  code TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX units_parent ON units(parent_id);

CREATE TABLE stations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  unit_id TEXT NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
  created_at TEXT NOT NULL
);

CREATE TABLE clusters (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  unit_id TEXT NOT NULL REFERENCES units(id) ON DELETE RESTRICT,
  station_id TEXT REFERENCES stations(id) ON DELETE SET NULL,
  zones TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]',
  lat REAL,
  lon REAL,
  volume INTEGER,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  online INTEGER NOT NULL DEFAULT 0,
  last_seen_at TEXT,
  agent_version TEXT,
  applied_version INTEGER,
  received_version INTEGER,
  reported TEXT,
  latest_telemetry TEXT
);
CREATE INDEX clusters_unit ON clusters(unit_id);

CREATE TABLE media (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  mime TEXT NOT NULL,
  codec TEXT NOT NULL,
  bitrate_kbps INTEGER NOT NULL,
  loudness TEXT NOT NULL,
  original_name TEXT NOT NULL,
  created_at TEXT NOT NULL
);
-- The sha256 of each uploaded source, so re-uploading the same file skips transcoding.
CREATE TABLE media_sources (
  source_sha256 TEXT PRIMARY KEY,
  media_sha256 TEXT NOT NULL REFERENCES media(sha256) ON DELETE CASCADE
);

CREATE TABLE bulletins (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  level TEXT NOT NULL,
  media_sha256 TEXT NOT NULL REFERENCES media(sha256) ON DELETE RESTRICT,
  created_at TEXT NOT NULL
);

CREATE TABLE playlists (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE playlist_items (
  playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  bulletin_id TEXT NOT NULL REFERENCES bulletins(id) ON DELETE RESTRICT,
  PRIMARY KEY (playlist_id, position)
);

CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  bulletin_id TEXT REFERENCES bulletins(id) ON DELETE RESTRICT,
  playlist_id TEXT REFERENCES playlists(id) ON DELETE RESTRICT,
  recurrence TEXT NOT NULL,
  targets TEXT NOT NULL,
  priority INTEGER NOT NULL,
  volume INTEGER,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL
);

CREATE TABLE fallbacks (
  unit_id TEXT PRIMARY KEY REFERENCES units(id) ON DELETE CASCADE,
  bulletin_ids TEXT NOT NULL,
  windows TEXT NOT NULL,
  volume INTEGER,
  updated_at TEXT NOT NULL
);

-- Upward records use the envelope id as primary key: a re-sent message is stored once.
CREATE TABLE plays (
  id TEXT PRIMARY KEY,
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  schedule_id TEXT,
  title TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  level TEXT NOT NULL,
  priority INTEGER NOT NULL,
  fallback INTEGER NOT NULL,
  occurrence TEXT,
  status TEXT NOT NULL,
  reason TEXT,
  relay_on_at TEXT,
  started_at TEXT,
  ended_at TEXT,
  relay_off_at TEXT,
  duration_ms INTEGER NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX plays_cluster ON plays(cluster_id, received_at);
CREATE INDEX plays_schedule ON plays(schedule_id);

CREATE TABLE events (
  id TEXT PRIMARY KEY,
  cluster_id TEXT REFERENCES clusters(id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT,
  source TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX events_cluster ON events(cluster_id, received_at);

CREATE TABLE telemetry (
  id TEXT PRIMARY KEY,
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX telemetry_cluster ON telemetry(cluster_id, at);

CREATE TABLE commands (
  id TEXT PRIMARY KEY,
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  deadline TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE command_acks (
  id TEXT PRIMARY KEY,
  command_id TEXT NOT NULL,
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  stage TEXT NOT NULL,
  at TEXT NOT NULL,
  reason TEXT,
  received_at TEXT NOT NULL
);
CREATE INDEX command_acks_command ON command_acks(command_id);

-- The current desired state of each device; the version only moves when the content hash changes.
CREATE TABLE desired_states (
  cluster_id TEXT PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  hash TEXT NOT NULL,
  body TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'alerts and CAP ingest',
    sql: `
-- One row per alert; a revision re-uses the id with a new ack id (acks of an older revision no longer count).
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  ack_id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  level TEXT NOT NULL,
  priority INTEGER NOT NULL,
  items TEXT NOT NULL,
  repeat INTEGER NOT NULL,
  starts_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  audible INTEGER NOT NULL,
  volume INTEGER,
  state TEXT NOT NULL,
  targets TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX alerts_state ON alerts(state, expires_at);

-- The clusters an alert targets and the latest stage each acknowledged (NULL: pending).
CREATE TABLE alert_targets (
  alert_id TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  stage TEXT,
  at TEXT,
  reason TEXT,
  PRIMARY KEY (alert_id, cluster_id)
);
CREATE INDEX alert_targets_cluster ON alert_targets(cluster_id);

-- CAP (sender, identifier) → alert, so Update and Cancel find what they reference.
CREATE TABLE cap_messages (
  sender TEXT NOT NULL,
  identifier TEXT NOT NULL,
  sent TEXT NOT NULL,
  msg_type TEXT NOT NULL,
  alert_id TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  received_at TEXT NOT NULL,
  PRIMARY KEY (sender, identifier)
);
`,
  },
  {
    version: 3,
    name: 'live relays and recurring relays',
    sql: `
-- One row per live relay (tiếp sóng); acks carry its ack id.
CREATE TABLE lives (
  id TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  ack_id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  source_url TEXT NOT NULL,
  priority INTEGER NOT NULL,
  starts_at TEXT NOT NULL,
  ends_at TEXT,
  volume INTEGER,
  state TEXT NOT NULL,
  targets TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX lives_state ON lives(state, ends_at);

-- The clusters a live relay targets and the latest stage each acknowledged (NULL: pending).
CREATE TABLE live_targets (
  live_id TEXT NOT NULL REFERENCES lives(id) ON DELETE CASCADE,
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  stage TEXT,
  at TEXT,
  reason TEXT,
  PRIMARY KEY (live_id, cluster_id)
);
CREATE INDEX live_targets_cluster ON live_targets(cluster_id);

-- Recurring relays, evaluated by the agents like schedule entries.
CREATE TABLE relays (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  source_url TEXT NOT NULL,
  priority INTEGER NOT NULL,
  recurrence TEXT NOT NULL,
  duration_s INTEGER NOT NULL,
  volume INTEGER,
  targets TEXT NOT NULL,
  created_at TEXT NOT NULL
);
`,
  },
  {
    version: 4,
    name: 'users, sessions, api tokens, audit log',
    sql: `
-- Operators. username_key is the lower-cased username: usernames are unique regardless of case.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  username_key TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  scope_unit_id TEXT REFERENCES units(id) ON DELETE RESTRICT,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_login_at TEXT
);

-- Browser sessions: only the SHA-256 of the cookie's token is stored.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ip TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

-- API tokens for machine clients: only the SHA-256 of the secret is stored.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  scope_unit_id TEXT REFERENCES units(id) ON DELETE RESTRICT,
  secret_hash TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);

-- Every operator action, successful or refused. Never updated, never deleted by the application.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor_kind TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  target_type TEXT,
  target_id TEXT,
  unit_id TEXT,
  outcome INTEGER NOT NULL,
  ip TEXT,
  details TEXT
);
CREATE INDEX audit_at ON audit_log(at);
CREATE INDEX audit_actor ON audit_log(actor_id, at);
CREATE INDEX audit_action ON audit_log(action, at);
CREATE INDEX audit_unit ON audit_log(unit_id, at);
`,
  },
  {
    version: 5,
    name: 'device credentials',
    sql: `
-- One MQTT credential per device (device id = cluster id = username). Only the secret's hash is kept, in
-- Mosquitto's PBKDF2-SHA512 "$7$" format, so the Mosquitto password file can be regenerated from here.
CREATE TABLE device_credentials (
  device_id TEXT PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
  secret_hash TEXT NOT NULL,
  generation INTEGER NOT NULL,
  issued_at TEXT NOT NULL,
  revoked_at TEXT
);
`,
  },
  WORKFLOW_MIGRATION,
  REQUESTED_LEDGER_MIGRATION,
  RECIPIENTS_MIGRATION,
  CAP_MIGRATION,
  WEB_SCOPE_MIGRATION,
  STORAGE_MIGRATION,
]
