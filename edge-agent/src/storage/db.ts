import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

export type Db = Database.Database

/**
 * Schema migrations, applied in order; PRAGMA user_version records how many ran. Never edit a shipped one:
 * devices in the field upgrade from any earlier version.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- slot 'received' = newest desired state accepted, 'applied' = newest with all media ready.
  CREATE TABLE desired (slot TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL, at TEXT NOT NULL);
  CREATE TABLE media (
    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL,
    state TEXT NOT NULL,            -- ready | missing | downloading | failed | corrupt
    error TEXT, last_used TEXT, verified_at TEXT
  );
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
    body TEXT NOT NULL, created_at TEXT NOT NULL, sent_at TEXT, attempts INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX outbox_channel ON outbox (channel, seq);
  CREATE TABLE plays (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, report_id TEXT NOT NULL UNIQUE,
    schedule_id TEXT, title TEXT NOT NULL, sha256 TEXT NOT NULL, level TEXT NOT NULL, priority INTEGER NOT NULL,
    fallback INTEGER NOT NULL, occurrence TEXT, status TEXT NOT NULL, reason TEXT,
    relay_on_at TEXT, started_at TEXT, ended_at TEXT, relay_off_at TEXT, duration_ms INTEGER NOT NULL
  );
  -- relay_log: every switching of the amplifier (the name is kept: boxes in the field hold it).
  CREATE TABLE relay_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "on" INTEGER NOT NULL);
  CREATE TABLE seen_commands (command_id TEXT PRIMARY KEY, at TEXT NOT NULL);
  `,
  `
  -- One row per alert id: the newest revision seen and where it stands, so a restart neither replays a finished
  -- alert nor forgets an active one. A cancel for an unknown id leaves a 'cancelled' row (revision 0).
  CREATE TABLE alerts (
    alert_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, ack_id TEXT NOT NULL, spec TEXT NOT NULL,
    state TEXT NOT NULL,            -- active | done | failed | expired | cancelled
    reason TEXT, playing_acked INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL
  );
  `,
  `
  -- One row per live relay id: the newest revision seen and where it stands, so a restart rejoins a relay still on
  -- and never restarts one that ended or was stopped. A stop for an unknown id leaves a 'cancelled' row (revision 0).
  CREATE TABLE lives (
    live_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, ack_id TEXT NOT NULL, spec TEXT NOT NULL,
    state TEXT NOT NULL,            -- active | done | expired | cancelled
    reason TEXT, updated_at TEXT NOT NULL,
    -- The desired-state version held when it arrived: a newer state without it means it was stopped meanwhile.
    desired_version INTEGER NOT NULL DEFAULT 0,
    from_desired INTEGER NOT NULL DEFAULT 0  -- 1: it arrived in a desired state, 0: by live-start
  );
  `,
  `
  -- Issue 10 §6: a play is named by what it is (schedule, occurrence, item, attempt), so the same play reported
  -- again under a new envelope id (a lost WAL, a recovered database) is counted once by the control plane; and the
  -- scheduler asks "already in the play log?" for every occurrence it takes (this index, by its first two
  -- columns), so neither a cursor moved back by a clock step nor a lost WAL plays or reports one twice.
  ALTER TABLE plays ADD COLUMN attempt INTEGER;
  CREATE INDEX plays_item ON plays (schedule_id, occurrence, sha256);
  `,
]

/** Opens (creating if needed) the agent database: WAL so readers never block the agent, FULL for power cuts. */
export function openDb(file: string): Db {
  mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  // Before anything writes a new file's first page: its freed pages can be handed back to the disk (media/prune.ts,
  // PRAGMA incremental_vacuum). Without effect on an existing database (media/prune.ts converts old ones).
  db.pragma('auto_vacuum = INCREMENTAL')
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  const current = db.pragma('user_version', { simple: true }) as number
  for (let i = current; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i] as string)
      db.pragma(`user_version = ${i + 1}`)
    })()
  }
  return db
}

export function kvGet(db: Db, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined
  return row?.value
}

export function kvSet(db: Db, key: string, value: string): void {
  db.prepare(
    'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(key, value)
}
