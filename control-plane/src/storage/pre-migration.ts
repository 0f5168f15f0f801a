import fs from 'node:fs'
import path from 'node:path'
import type Database from 'better-sqlite3'
import { BackupError, fileStamp } from './backup-files.js'
import { MIGRATIONS } from './migrations/index.js'

/** How many pre-migration backups are kept in `<dataDir>/backups/` (the oldest go first). */
export const PRE_MIGRATION_KEEP = 5

const NAME_RE = /^pre-migration-\d+-to-\d+-(\d{8}T\d{6}(?:\.\d{3})?Z)\.sqlite$/

export interface PreMigrationOptions {
  keep?: number
  now?: () => Date
  /** pino's `info` fits. */
  log?: { info(obj: Record<string, unknown>, msg: string): void }
}

/** Applied migration versions; null for a brand-new database (no migrations table or nothing in it). */
function appliedVersions(db: Database.Database): Set<number> | null {
  const has = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get()
  if (!has) return null
  const rows = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]
  return rows.length ? new Set(rows.map((r) => r.version)) : null
}

/**
 * Before migrating an existing database: a copy of it as it is, in `<dir of file>/backups/pre-migration-<from>-to-
 * <to>-<UTC>.sqlite`. `VACUUM INTO` rather than the backup API because opening is synchronous (better-sqlite3's
 * backup is async only) and at start this connection is the database's only user, so the copy is the same
 * consistent snapshot. Throws (and the caller does not migrate) when it cannot be written, e.g. the disk is full:
 * the database stays as the previous version left it. Returns the file written, or null when nothing is pending.
 */
export function backupBeforeMigration(
  db: Database.Database,
  file: string,
  opts: PreMigrationOptions = {},
): string | null {
  const applied = appliedVersions(db)
  if (applied === null) return null
  const pending = MIGRATIONS.filter((m) => !applied.has(m.version))
  if (!pending.length) return null
  const from = Math.max(...applied)
  const to = Math.max(...MIGRATIONS.map((m) => m.version))
  const dir = path.join(path.dirname(file), 'backups')
  const name = `pre-migration-${from}-to-${to}-${fileStamp((opts.now ?? (() => new Date()))())}.sqlite`
  const out = path.join(dir, name)
  const part = `${out}.part`
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    fs.rmSync(part, { force: true })
    db.prepare('VACUUM INTO ?').run(part)
    fs.renameSync(part, out)
  } catch (err) {
    try {
      fs.rmSync(part, { force: true })
    } catch {
      // Nothing was written where there is no directory.
    }
    throw new BackupError(
      'LOA_BACKUP_PRE_MIGRATION_FAILED',
      `Không ghi được bản sao lưu trước khi nâng cấp cơ sở dữ liệu, không nâng cấp / cannot write the backup ` +
        `before migrating ${from} → ${to} into ${dir}: ${(err as Error).message}. The database is unchanged; ` +
        'free disk space and start again (or run the previous version).',
      { cause: err },
    )
  }
  opts.log?.info({ file: out, from, to }, 'database backed up before migration')
  prune(dir, opts.keep ?? PRE_MIGRATION_KEEP)
  return out
}

/** Keeps the newest `keep` pre-migration backups (by the time in their names). */
function prune(dir: string, keep: number): void {
  const ours = fs
    .readdirSync(dir)
    .map((n) => ({ n, stamp: NAME_RE.exec(n)?.[1] }))
    .filter((e): e is { n: string; stamp: string } => e.stamp !== undefined)
    .sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : 0))
  for (const e of ours.slice(0, Math.max(0, ours.length - keep)))
    fs.rmSync(path.join(dir, e.n), { force: true })
}
