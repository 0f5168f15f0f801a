import { DesiredStateBody } from '@loa/shared'
import { Value } from '@sinclair/typebox/value'
import Database from 'better-sqlite3'
import type { Db } from './db.js'

/** At most this many rows of a table are carried over from a damaged database (newest first). */
const MAX_ROWS = 100_000

const json = (v: unknown): boolean => {
  if (typeof v !== 'string') return false
  try {
    JSON.parse(v)
    return true
  } catch {
    return false
  }
}
const isoInstant = (v: unknown) => typeof v === 'string' && Number.isFinite(Date.parse(v))

/**
 * The `kv` keys worth keeping, each with the shape its value must have. Not the rotated signing key (a wrong one
 * would lock the box out; the chain is walked again from the pinned key) nor amplifier switch intents (every zone is
 * switched off at start anyway).
 */
const KV_KEEP: { match: (key: string) => boolean; valid: (value: unknown) => boolean }[] = [
  // Replay protection: the newest time the control plane vouched for.
  { match: (k) => k === 'signed_time_floor', valid: (v) => typeof v === 'string' && /^\d{1,16}$/.test(v) },
  // The scheduler's cursor and the occurrences taken but not yet reported: missed ones are reported, not lost.
  { match: (k) => k === 'scheduler.cursor', valid: isoInstant },
  // Occurrences only an untrusted clock said were late (clock/clock.ts): reported missed once certainly past.
  { match: (k) => k === 'scheduler.unsure', valid: json },
  {
    match: (k) => k === 'scheduler.pending',
    valid: (v) => json(v) && Array.isArray(JSON.parse(v as string)),
  },
  // The technician's volume settings.
  { match: (k) => k.startsWith('volume.'), valid: (v) => typeof v === 'string' && /^\d{1,3}$/.test(v) },
  // How the previous run ended, for the agent-restarted report.
  { match: (k) => k.startsWith('agent.'), valid: json },
]

interface TableRule {
  table: string
  /** Newest first, so a table damaged part-way keeps its most recent rows. */
  order: string
  where?: string
  /** A row that fails is left behind. */
  valid?: (row: Record<string, unknown>) => boolean
}

/**
 * What is carried over, and why: the desired state (keep playing offline at once), unreceipted upward messages
 * (plays, events and acks are never lost; the control plane de-duplicates them by id), the play log (so no
 * occurrence is played twice and plays keep their names), seen command ids (replay protection), alerts and lives
 * (never replay a finished one). Media rows are not: the files on disk are adopted again by their hash when the
 * desired state refers to them. Telemetry and reported snapshots are stale: not kept.
 */
const TABLES: TableRule[] = [
  {
    table: 'desired',
    order: 'slot',
    valid: (r) => json(r.body) && Value.Check(DesiredStateBody, JSON.parse(r.body as string)),
  },
  {
    table: 'outbox',
    order: 'seq DESC',
    where: "channel IN ('play', 'event', 'ack')",
    valid: (r) => json(r.body),
  },
  { table: 'plays', order: 'seq DESC' },
  { table: 'seen_commands', order: 'at DESC' },
  { table: 'alerts', order: 'updated_at DESC', valid: (r) => json(r.spec) },
  { table: 'lives', order: 'updated_at DESC', valid: (r) => json(r.spec) },
  {
    table: 'kv',
    order: 'key',
    valid: (r) => KV_KEEP.some((k) => k.match(String(r.key)) && k.valid(r.value)),
  },
]

const columns = (db: Db, table: string): string[] =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name)

/**
 * Copies what can still be read from a damaged database into a fresh one, table by table, row by row: a table
 * whose pages are damaged keeps the rows read before the damage. Opens the damaged file read-only (it stays as it
 * is, for diagnosis). Never throws; returns the rows kept per table.
 */
export function salvage(damagedFile: string, fresh: Db): Record<string, number> {
  const kept: Record<string, number> = {}
  let old: Db
  try {
    old = new Database(damagedFile, { readonly: true, fileMustExist: true })
  } catch {
    return kept
  }
  try {
    for (const rule of TABLES) {
      let n = 0
      try {
        const oldCols = new Set(columns(old, rule.table))
        // `seq` is left out: rows get fresh sequence numbers in their original order.
        const cols = columns(fresh, rule.table).filter((c) => oldCols.has(c) && c !== 'seq')
        if (cols.length === 0) continue
        const list = cols.map((c) => `"${c}"`).join(', ')
        const rows: Record<string, unknown>[] = []
        const read = old.prepare(
          `SELECT ${list} FROM ${rule.table} ${rule.where ? `WHERE ${rule.where}` : ''} ORDER BY ${rule.order} LIMIT ${MAX_ROWS}`,
        )
        try {
          for (const row of read.iterate() as Iterable<Record<string, unknown>>) {
            if (!rule.valid || rule.valid(row)) rows.push(row)
          }
        } catch {
          // Damaged from here on: keep what was read.
        }
        const insert = fresh.prepare(
          `INSERT OR IGNORE INTO ${rule.table} (${list}) VALUES (${cols.map(() => '?').join(', ')})`,
        )
        fresh.transaction(() => {
          for (const row of rows.reverse()) n += insert.run(...cols.map((c) => row[c])).changes
        })()
      } catch {
        // The table itself is unreadable (its schema page is damaged): nothing of it is kept.
      }
      kept[rule.table] = n
    }
  } finally {
    old.close()
  }
  return kept
}
