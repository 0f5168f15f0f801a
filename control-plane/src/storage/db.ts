import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS } from './migrations/index.js'
import { backupBeforeMigration, type PreMigrationOptions } from './pre-migration.js'

export type Db = Database.Database

/**
 * Opens (creating if needed) the SQLite database, tuned to survive power cuts, and migrates it; an existing
 * database behind this build's migrations is first copied into `backups/` (storage/pre-migration.ts).
 */
export function openDatabase(file: string, opts: PreMigrationOptions = {}): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  try {
    backupBeforeMigration(db, file, opts)
  } catch (err) {
    db.close()
    throw err
  }
  migrate(db)
  return db
}

/** Applies the pending migrations (up to `upTo`, inclusive: tests build older databases with it). */
export function migrate(db: Db, upTo = Number.POSITIVE_INFINITY): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (r) => r.version,
    ),
  )
  for (const m of MIGRATIONS) {
    if (applied.has(m.version) || m.version > upTo) continue
    db.transaction(() => {
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      )
    })()
  }
}
