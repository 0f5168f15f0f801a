import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BackupError,
  type BackupManifest,
  DATA_NAME,
  DB_NAME,
  describeFile,
  fileStamp,
  isEmptyDir,
  listFiles,
  MANIFEST_NAME,
  schemaVersionOf,
  skipped,
} from './backup-files.js'
import { verifyStaged } from './backup-verify.js'

const run = promisify(execFile)

export interface BackupResult {
  /** The archive written: a `.tar` file or a directory. */
  archive: string
  kind: 'tar' | 'dir'
  manifest: BackupManifest
  bytes: number
}

export interface RestoreResult {
  dataDir: string
  manifest: BackupManifest
  /** With `force` on a non-empty target: where its previous content was moved (nothing is deleted). */
  previous: string | null
}

const scratchName = (what: string) => `.loa-${what}-${process.pid}-${randomBytes(4).toString('hex')}`

/**
 * Where the archive goes: `--out x.tar` a tar file, `--out existing-dir` a tar named by the time inside it,
 * any other `--out` a new directory. An existing archive is never overwritten.
 */
async function archiveTarget(out: string, now: Date): Promise<{ archive: string; kind: 'tar' | 'dir' }> {
  const abs = path.resolve(out)
  const st = await fs.stat(abs).catch(() => null)
  if (st?.isDirectory()) {
    if (await isEmptyDir(abs)) return { archive: abs, kind: 'dir' }
    return { archive: path.join(abs, `loa-backup-${fileStamp(now)}.tar`), kind: 'tar' }
  }
  if (st) {
    throw new BackupError('LOA_BACKUP_OUT_EXISTS', `Tệp đã có, không ghi đè / ${abs} exists; not overwritten`)
  }
  return { archive: abs, kind: abs.endsWith('.tar') ? 'tar' : 'dir' }
}

/**
 * A consistent copy of a data directory while the control plane runs: the database through SQLite's online
 * backup API (one step, so one read snapshot; WAL writers go on meanwhile), then media, signing keys, broker
 * secret, CA/TLS and config files, with a manifest of every file's size and sha256.
 */
export async function createBackup(
  dataDir: string,
  out: string,
  opts: { now?: () => Date } = {},
): Promise<BackupResult> {
  const now = (opts.now ?? (() => new Date()))()
  const src = path.resolve(dataDir)
  const dbFile = path.join(src, DB_NAME)
  if (!(await fs.stat(dbFile).catch(() => null))?.isFile()) {
    throw new BackupError(
      'LOA_BACKUP_NO_DATABASE',
      `Không có cơ sở dữ liệu / no database at ${dbFile} (--data-dir đúng chưa? / right --data-dir?)`,
    )
  }
  const target = await archiveTarget(out, now)
  const parent = path.dirname(target.archive)
  await fs.mkdir(parent, { recursive: true })
  const stage = path.join(parent, scratchName('backup'))
  const data = path.join(stage, DATA_NAME)
  try {
    await fs.mkdir(data, { recursive: true, mode: 0o700 })
    const copy = path.join(data, DB_NAME)
    // Database first: a media row in the snapshot then always finds its file (media files are only added).
    // Not read-only: a read-only connection cannot open a WAL database whose -shm is missing.
    const db = new Database(dbFile, { fileMustExist: true })
    try {
      await db.backup(copy, { progress: () => 0x7fffffff })
    } finally {
      db.close()
    }
    const c = new Database(copy)
    let schemaVersion: number
    try {
      // A single self-contained file: no -wal beside it in the archive.
      c.pragma('journal_mode = DELETE')
      schemaVersion = schemaVersionOf(c)
    } finally {
      c.close()
    }
    for (const rel of await listFiles(src, skipped)) {
      const to = path.join(data, rel)
      await fs.mkdir(path.dirname(to), { recursive: true, mode: 0o700 })
      await fs.copyFile(path.join(src, rel), to)
      await fs.chmod(to, (await fs.stat(path.join(src, rel))).mode & 0o777)
    }
    const files = await Promise.all((await listFiles(data)).map((rel) => describeFile(data, rel)))
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      createdAt: now.toISOString(),
      schemaVersion,
      database: DB_NAME,
      files,
    }
    await fs.writeFile(path.join(stage, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, {
      mode: 0o600,
    })
    const bytes = files.reduce((n, f) => n + f.size, 0)
    if (target.kind === 'dir') {
      await fs.rm(target.archive, { recursive: true, force: true }) // only ever an empty directory here
      await fs.rename(stage, target.archive)
    } else {
      const part = `${target.archive}.part`
      await run('tar', ['-cf', part, '-C', stage, MANIFEST_NAME, DATA_NAME])
      await fs.chmod(part, 0o600) // it holds private keys
      await fs.rename(part, target.archive)
      await fs.rm(stage, { recursive: true, force: true })
    }
    return { ...target, manifest, bytes }
  } catch (err) {
    await fs.rm(stage, { recursive: true, force: true })
    await fs.rm(`${target.archive}.part`, { force: true })
    if (err instanceof BackupError) throw err
    throw new BackupError(
      'LOA_BACKUP_FAILED',
      `Sao lưu thất bại / backup failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}

/** Unpacks (or copies) an archive into `stage`; a tar that does not unpack is corrupt. */
async function unpack(from: string, stage: string): Promise<void> {
  const st = await fs.stat(from).catch(() => null)
  if (!st) throw new BackupError('LOA_BACKUP_NOT_FOUND', `Không thấy bản sao lưu / no backup at ${from}`)
  if (st.isDirectory()) {
    await fs.cp(from, stage, { recursive: true, preserveTimestamps: true })
    return
  }
  try {
    // Only files and directories, inside the archive: no links to follow, no path leaving the scratch directory.
    const { stdout } = await run('tar', ['-tvf', from], { maxBuffer: 64 * 1024 * 1024 })
    const odd = stdout.split('\n').filter((l) => l && !/^[-d]/.test(l))
    if (odd.length) throw Object.assign(new Error(`not a file or directory: ${odd[0]}`), { stderr: '' })
    const { stdout: names } = await run('tar', ['-tf', from], { maxBuffer: 64 * 1024 * 1024 })
    const bad = names.split('\n').find((n) => n.startsWith('/') || n.split('/').includes('..'))
    if (bad !== undefined) throw Object.assign(new Error(`path leaves the archive: ${bad}`), { stderr: '' })
    await run('tar', ['-xf', from, '-C', stage, '--no-same-owner'])
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr || (err as Error).message).trim()
    throw new BackupError(
      'LOA_BACKUP_CORRUPT',
      `Bản sao lưu hỏng hoặc bị cắt cụt / the backup is corrupt or truncated: ${detail}`,
    )
  }
}

/**
 * Restores an archive into a data directory: unpacked into a scratch directory beside the target, verified
 * (manifest, sizes, sha256, media names, SQLite integrity, schema not newer than this build), and only then
 * renamed into place. A refused archive leaves the target exactly as it was.
 */
export async function restoreBackup(
  from: string,
  dataDir: string,
  opts: { force?: boolean; now?: () => Date } = {},
): Promise<RestoreResult> {
  const src = path.resolve(from)
  const target = path.resolve(dataDir)
  const empty = await isEmptyDir(target)
  if (!empty && !opts.force) {
    throw new BackupError(
      'LOA_BACKUP_TARGET_NOT_EMPTY',
      `Thư mục đích không trống / ${target} is not empty (--force: chuyển nội dung cũ sang bên cạnh / moves ` +
        'its content aside)',
    )
  }
  const parent = path.dirname(target)
  await fs.mkdir(parent, { recursive: true })
  const stage = path.join(parent, scratchName('restore'))
  try {
    await fs.mkdir(stage, { mode: 0o700 })
    await unpack(src, stage)
    const manifest = await verifyStaged(stage)
    const data = path.join(stage, DATA_NAME)
    await fs.chmod(data, 0o700)
    let previous: string | null = null
    if (empty) {
      await fs.rm(target, { recursive: true, force: true }) // absent or an empty directory
    } else {
      previous = `${target}.before-restore-${fileStamp((opts.now ?? (() => new Date()))())}`
      await fs.rename(target, previous)
    }
    await fs.rename(data, target)
    await fs.rm(stage, { recursive: true, force: true })
    return { dataDir: target, manifest, previous }
  } catch (err) {
    await fs.rm(stage, { recursive: true, force: true })
    if (err instanceof BackupError) throw err
    throw new BackupError(
      'LOA_BACKUP_FAILED',
      `Khôi phục thất bại / restore failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}
