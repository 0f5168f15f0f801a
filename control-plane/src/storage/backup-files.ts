import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import type Database from 'better-sqlite3'
import { MIGRATIONS } from './migrations/index.js'

/** Stable codes of backup and restore failures (the `loa` CLI maps them to exit codes, docs/backup.md). */
export type BackupErrorCode =
  | 'LOA_BACKUP_NO_DATABASE'
  | 'LOA_BACKUP_NOT_FOUND'
  | 'LOA_BACKUP_OUT_EXISTS'
  | 'LOA_BACKUP_TARGET_NOT_EMPTY'
  | 'LOA_BACKUP_CORRUPT'
  | 'LOA_BACKUP_NEWER_SCHEMA'
  | 'LOA_BACKUP_NEWER_FORMAT'
  | 'LOA_BACKUP_FAILED'
  | 'LOA_BACKUP_PRE_MIGRATION_FAILED'

export class BackupError extends Error {
  constructor(
    readonly code: BackupErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'BackupError'
  }
}

export const BACKUP_FORMAT = 'loa-backup'
export const BACKUP_FORMAT_VERSION = 1
/** Inside an archive: the manifest, and the data directory's files under `data/`. */
export const MANIFEST_NAME = 'manifest.json'
export const DATA_NAME = 'data'
export const DB_NAME = 'loa.db'

export interface ManifestFile {
  /** Relative to the data directory, `/`-separated. */
  path: string
  size: number
  sha256: string
  /** Permission bits (keys stay 0600 after a restore). */
  mode: number
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT
  formatVersion: number
  createdAt: string
  /** Highest applied migration of the database in the archive. */
  schemaVersion: number
  database: typeof DB_NAME
  files: ManifestFile[]
}

/** The newest migration this build knows: a backup from a newer schema cannot be restored by it. */
export const KNOWN_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version))

/** A media file's name is the sha256 of its content (media/import.ts). */
export const MEDIA_NAME_RE = /^media\/([0-9a-f]{64})$/

/**
 * What of the data directory is not copied file by file: the live database (copied through SQLite's backup API
 * instead), scratch space, earlier backups and half-written temporaries.
 */
export function skipped(rel: string): boolean {
  if (/^loa\.db(-wal|-shm|-journal)?$/.test(rel)) return true
  if (rel === 'tmp' || rel.startsWith('tmp/') || rel === 'backups' || rel.startsWith('backups/')) return true
  const base = path.posix.basename(rel)
  return base.endsWith('.tmp') || base.includes('.tmp-') || base.endsWith('.part')
}

/** Every regular file under `dir`, relative and `/`-separated, sorted (symlinks and sockets are not followed). */
export async function listFiles(
  dir: string,
  filter: (rel: string) => boolean = () => false,
  onOther: (rel: string) => void = () => {},
): Promise<string[]> {
  const out: string[] = []
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true })
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (filter(r)) continue
      if (e.isDirectory()) await walk(r)
      else if (e.isFile()) out.push(r)
      else onOther(r)
    }
  }
  await walk('')
  return out.sort()
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer)
  return h.digest('hex')
}

export async function describeFile(root: string, rel: string): Promise<ManifestFile> {
  const file = path.join(root, rel)
  const st = await fs.stat(file)
  return { path: rel, size: st.size, sha256: await sha256File(file), mode: st.mode & 0o777 }
}

/** Highest applied migration of a database file (0 when it has none). */
export function schemaVersionOf(db: Database.Database): number {
  const has = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get()
  if (!has) return 0
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }
  return row.v ?? 0
}

/** True when `dir` does not exist or is an empty directory. */
export async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length === 0
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw err
  }
}

/** `20250102T030405.678Z`: UTC, sortable, safe in file names. */
export const fileStamp = (d: Date): string => d.toISOString().replace(/[-:]/g, '')
