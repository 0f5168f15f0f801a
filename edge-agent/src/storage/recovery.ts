import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { type Db, openDb } from './db.js'
import { DiskReserve } from './disk-reserve.js'
import { freeBytesSync } from './disk-space.js'
import { salvage } from './salvage.js'

export const DB_FILE = 'agent.db'
/** Written when a corruption error is seen while running: the next start checks (and recovers) the database. */
const SUSPECT_FILE = 'agent.db.suspect'
const DAMAGED_PREFIX = `${DB_FILE}.corrupt-`
const SIDE_FILES = ['', '-wal', '-shm']

/** What happened to a damaged database, for the `database-recovered` event. */
export interface DbRecovery {
  at: string
  /** Where the damaged file was moved, in the data directory (`agent.db.corrupt-<ts>`, with its -wal/-shm). */
  damagedFile: string
  damagedBytes: number
  /** The SQLite error code (`SQLITE_NOTADB`, `SQLITE_CORRUPT`, …) and what it or the check said. */
  code: string
  error: string
  /** `open`: the file could not be opened; `check`: PRAGMA quick_check at start; `run`: an error while running. */
  detectedBy: 'open' | 'check' | 'run'
  /** Rows carried over per table (storage/salvage.ts). */
  salvaged: Record<string, number>
  /** Older damaged files deleted to stay within `keepDamaged`. */
  deleted: string[]
}

/** SQLITE_CORRUPT (and its extended codes) and SQLITE_NOTADB: the file is damaged, not merely busy or full. */
export function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
}

/** Run time saw a corruption error: leave a note so the next start checks the file (best effort, never throws). */
export function markSuspect(dataDir: string, err: unknown): void {
  try {
    const e = err as { code?: string; message?: string }
    writeFileSync(
      join(dataDir, SUSPECT_FILE),
      JSON.stringify({
        at: new Date().toISOString(),
        code: e?.code,
        error: String(e?.message).slice(0, 500),
      }),
    )
  } catch {}
}

function readSuspect(dataDir: string): { code?: string; error?: string } | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, SUSPECT_FILE), 'utf8'))
  } catch {
    return existsSync(join(dataDir, SUSPECT_FILE)) ? {} : null
  }
}

/** `PRAGMA quick_check`: its findings, or [] when the file is sound. Throws on a corruption it trips over. */
function quickCheck(db: Db): string[] {
  const rows = db.pragma('quick_check') as { quick_check: string }[]
  const found = rows.map((r) => r.quick_check)
  return found.length === 1 && found[0] === 'ok' ? [] : found
}

export interface OpenAgentDbOptions {
  /** How many damaged files (with their WAL) to keep for diagnosis; older ones are deleted. */
  keepDamaged?: number
  now?: () => number
}

/**
 * Opens `<dataDir>/agent.db`, checking it first, and never leaves the box in a crash loop over a damaged file:
 * a file SQLite cannot open (`file is not a database`), or one `PRAGMA quick_check` finds damaged, is moved aside
 * (`agent.db.corrupt-<ts>` with its -wal and -shm, at most `keepDamaged` kept), a fresh database is created, and
 * what can still be read of the old one is carried over (storage/salvage.ts). The agent then reports what happened and
 * asks for its desired state again.
 *
 * The check runs at every start: it reads the whole file once (docs/performance.md: about 0.1 s for a month of
 * every-minute plays, 1.2 s for a year, on the reference machine; a few times that on a Pi 4 with an SD card).
 */
export function openAgentDb(
  dataDir: string,
  o: OpenAgentDbOptions = {},
): { db: Db; recovery: DbRecovery | null } {
  const file = join(dataDir, DB_FILE)
  const now = o.now ?? Date.now
  const suspect = readSuspect(dataDir)
  let db: Db | null = null
  // SQLite reports a corruption only when it met one: a note from the last run is trusted even if the check at
  // start passes (a check that missed it would otherwise restart the box into the same error again and again).
  let problem: Pick<DbRecovery, 'code' | 'error' | 'detectedBy'> | null = suspect
    ? {
        code: suspect.code ?? 'SQLITE_CORRUPT',
        error: suspect.error ?? 'seen while running',
        detectedBy: 'run',
      }
    : null
  try {
    db = openWithRoom(dataDir, file)
    const found = problem ? [] : quickCheck(db)
    if (found.length > 0) {
      problem = {
        code: 'SQLITE_CORRUPT',
        error: `quick_check: ${found.slice(0, 5).join('; ')}`.slice(0, 1000),
        detectedBy: 'check',
      }
    }
  } catch (err) {
    if (!isCorruption(err)) throw err
    const e = err as { code: string; message: string }
    problem ??= { code: e.code, error: e.message.slice(0, 1000), detectedBy: db ? 'check' : 'open' }
  }
  if (suspect) {
    try {
      unlinkSync(join(dataDir, SUSPECT_FILE))
    } catch {}
  }
  if (!problem && db) return { db, recovery: null }
  try {
    db?.close()
  } catch {}
  const at = new Date(now()).toISOString()
  const damagedFile = `${DAMAGED_PREFIX}${at.replace(/[:.]/g, '-')}`
  const damagedBytes = existsSync(file) ? statSync(file).size : 0
  for (const side of SIDE_FILES) {
    if (existsSync(file + side)) renameSync(file + side, join(dataDir, damagedFile + side))
  }
  const fresh = openWithRoom(dataDir, file)
  const salvaged = existsSync(join(dataDir, damagedFile)) ? salvage(join(dataDir, damagedFile), fresh) : {}
  const deleted = pruneDamaged(dataDir, o.keepDamaged ?? 2, damagedFile)
  return {
    db: fresh,
    recovery: {
      at,
      damagedFile,
      damagedBytes,
      ...(problem as NonNullable<typeof problem>),
      salvaged,
      deleted,
    },
  }
}

/**
 * Opens the database even on a disk that is already full (a box rebooted with its disk full): WAL mode needs room
 * for its index (`-shm`) and SQLite fails with an I/O error without it. Then room is made from what the agent can
 * spare — the disk reserve, damaged databases kept for diagnosis, partial downloads (`.part`, fetched again) —
 * and it is opened again.
 */
function openWithRoom(dataDir: string, file: string): Db {
  try {
    return openDb(file)
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '')
    if (!(code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR')) || freeBytesSync(dataDir) > 1024 * 1024)
      throw err
    new DiskReserve(dataDir, 0).release()
    const spare = readdirSync(dataDir).filter((f) => f.startsWith(DAMAGED_PREFIX))
    const media = join(dataDir, 'media')
    const parts = existsSync(media) ? readdirSync(media).filter((f) => f.endsWith('.part')) : []
    for (const f of [...spare.map((f) => join(dataDir, f)), ...parts.map((f) => join(media, f))]) {
      try {
        unlinkSync(f)
      } catch {}
    }
    return openDb(file)
  }
}

/**
 * Keeps the newest `keep` damaged files (and their -wal/-shm), `current` included: the data disk of a box is
 * small. Names carry the time of their recovery; `current` counts as the newest whatever the clock said.
 */
function pruneDamaged(dataDir: string, keep: number, current: string): string[] {
  const others = readdirSync(dataDir)
    .filter((f) => f.startsWith(DAMAGED_PREFIX) && !/-(wal|shm)$/.test(f) && f !== current)
    .sort()
  const old = [...others, current].slice(0, Math.max(0, others.length + 1 - keep))
  for (const f of old) {
    for (const side of SIDE_FILES) {
      try {
        unlinkSync(join(dataDir, f + side))
      } catch {}
    }
  }
  return old
}
