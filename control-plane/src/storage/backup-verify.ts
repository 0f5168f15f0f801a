import fs from 'node:fs/promises'
import path from 'node:path'
import Database from 'better-sqlite3'
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BackupError,
  type BackupManifest,
  DATA_NAME,
  DB_NAME,
  describeFile,
  KNOWN_SCHEMA_VERSION,
  listFiles,
  MANIFEST_NAME,
  type ManifestFile,
  MEDIA_NAME_RE,
  schemaVersionOf,
} from './backup-files.js'

const corrupt = (why: string) =>
  new BackupError('LOA_BACKUP_CORRUPT', `Bản sao lưu không hợp lệ / the backup does not verify: ${why}`)

const isFileEntry = (f: unknown): f is ManifestFile => {
  const e = f as Partial<ManifestFile> | null
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.path === 'string' &&
    typeof e.size === 'number' &&
    typeof e.sha256 === 'string' &&
    typeof e.mode === 'number'
  )
}

async function readManifest(stage: string): Promise<BackupManifest> {
  let text: string
  try {
    text = await fs.readFile(path.join(stage, MANIFEST_NAME), 'utf8')
  } catch {
    throw corrupt(`không có / no ${MANIFEST_NAME}`)
  }
  let m: Partial<BackupManifest>
  try {
    m = JSON.parse(text) as Partial<BackupManifest>
  } catch (err) {
    throw corrupt(`${MANIFEST_NAME}: ${(err as Error).message}`)
  }
  if (m.format !== BACKUP_FORMAT || typeof m.formatVersion !== 'number') {
    throw corrupt(`${MANIFEST_NAME}: không phải bản sao lưu Loa / not a Loa backup`)
  }
  if (m.formatVersion > BACKUP_FORMAT_VERSION) {
    throw new BackupError(
      'LOA_BACKUP_NEWER_FORMAT',
      `Định dạng sao lưu mới hơn bản này / backup format ${m.formatVersion} is newer than this build ` +
        `(${BACKUP_FORMAT_VERSION}): restore with a newer loa`,
    )
  }
  if (typeof m.schemaVersion !== 'number' || typeof m.createdAt !== 'string' || !Array.isArray(m.files)) {
    throw corrupt(`${MANIFEST_NAME}: thiếu trường / missing fields`)
  }
  if (!m.files.every(isFileEntry)) throw corrupt(`${MANIFEST_NAME}: files[] malformed`)
  if (m.schemaVersion > KNOWN_SCHEMA_VERSION) {
    throw new BackupError(
      'LOA_BACKUP_NEWER_SCHEMA',
      `Cơ sở dữ liệu của bản sao lưu mới hơn bản này / the backup's schema (migration ${m.schemaVersion}) is ` +
        `newer than this build knows (${KNOWN_SCHEMA_VERSION}): restore with the version that made it`,
    )
  }
  return m as BackupManifest
}

/**
 * Checks an unpacked archive: exactly the manifest's files, each of its size and sha256; media named by their
 * content; the database passes SQLite's integrity check at the manifest's schema version.
 */
export async function verifyStaged(stage: string): Promise<BackupManifest> {
  const manifest = await readManifest(stage)
  const data = path.join(stage, DATA_NAME)
  const others: string[] = []
  const present = await listFiles(data, undefined, (rel) => others.push(rel)).catch(() => [] as string[])
  // A symlink renamed into the data directory could point the control plane anywhere.
  if (others.length)
    throw corrupt(`không phải tệp thường / not regular files: ${others.slice(0, 5).join(', ')}`)
  const listed = new Map(manifest.files.map((f) => [f.path, f]))
  const missing = [...listed.keys()].filter((p) => !present.includes(p))
  if (missing.length) throw corrupt(`thiếu tệp / missing files: ${missing.slice(0, 5).join(', ')}`)
  const extra = present.filter((p) => !listed.has(p))
  if (extra.length) throw corrupt(`tệp lạ / files not in the manifest: ${extra.slice(0, 5).join(', ')}`)
  if (!listed.has(DB_NAME)) throw corrupt(`không có / no ${DB_NAME}`)
  for (const rel of present) {
    const want = listed.get(rel) as ManifestFile
    const got = await describeFile(data, rel)
    if (got.size !== want.size) throw corrupt(`${rel}: ${got.size} bytes, manifest says ${want.size}`)
    if (got.sha256 !== want.sha256) throw corrupt(`${rel}: sha256 khác / differs from the manifest`)
    const media = MEDIA_NAME_RE.exec(rel)
    if (media && media[1] !== got.sha256)
      throw corrupt(`${rel}: nội dung khác tên / content does not match its name`)
    await fs.chmod(path.join(data, rel), want.mode & 0o777)
  }
  const db = new Database(path.join(data, DB_NAME), { fileMustExist: true })
  try {
    const check = db.pragma('integrity_check', { simple: true })
    if (check !== 'ok') throw corrupt(`${DB_NAME}: integrity_check: ${String(check)}`)
    const v = schemaVersionOf(db)
    if (v !== manifest.schemaVersion) {
      throw corrupt(`${DB_NAME}: migration ${v}, manifest says ${manifest.schemaVersion}`)
    }
  } catch (err) {
    if (err instanceof BackupError) throw err
    throw corrupt(`${DB_NAME}: ${(err as Error).message}`)
  } finally {
    db.close()
  }
  return manifest
}
