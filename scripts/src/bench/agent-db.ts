import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Db, dbBytes, MINUTES_IN_YEAR, openDb, Pruner, yearOfPlays } from '@loa/edge-agent/testing'
import pino from 'pino'
import type { BenchRow } from './desired-fanout.js'

const MB = 1024 * 1024
const START = Date.parse('2026-01-01T00:00:00Z')
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`)
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now()
  const value = fn()
  return { ms: performance.now() - t0, value }
}

/** The longest the event loop was kept from running while `work` ran (a 5 ms interval's worst lateness). */
async function longestStall<T>(work: () => Promise<T>): Promise<{ ms: number; stallMs: number; value: T }> {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - 5)
    last = now
  }, 5)
  const t0 = performance.now()
  try {
    const value = await work()
    return { ms: performance.now() - t0, stallMs: worst, value }
  } finally {
    clearInterval(timer)
  }
}

/** Reads the whole file once: what any check of every page costs at least. */
function readWhole(file: string): number {
  return timed(() => readFileSync(file).length).ms
}

function build(dir: string, name: string, minutes: number): string {
  const file = join(dir, name)
  const db = openDb(file)
  yearOfPlays(db, START)
  // Keep only the first `minutes` of the year.
  db.prepare('DELETE FROM plays WHERE seq > ?').run(minutes)
  db.prepare('DELETE FROM relay_log WHERE seq > ?').run(2 * minutes)
  db.exec('VACUUM')
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return file
}

/**
 * The agent's database on the box (docs/performance.md, "The agent's database"): the check at every start
 * (PRAGMA quick_check) against reading the file once; pruning a year of every-minute plays to the 200 MB budget
 * in batches (the agent keeps running) against one bulk DELETE of the same rows; the one-time conversion of an
 * old database (VACUUM) against reading it.
 */
export async function benchAgentDb(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-bench-agentdb-'))
  const rows: BenchRow[] = []
  try {
    for (const [label, minutes] of [
      ['a month', 30 * 24 * 60],
      ['a year', MINUTES_IN_YEAR],
    ] as const) {
      const file = build(dir, `check-${minutes}.db`, minutes)
      const size = statSync(file).size
      readWhole(file) // warm the page cache for both, fairly
      const db = openDb(file)
      const check = timed(() => db.pragma('quick_check', { simple: true }))
      db.close()
      const read = readWhole(file)
      rows.push({
        name: `agent db check at start (quick_check), ${label} of every-minute plays (${(size / MB).toFixed(0)} MB)`,
        loa: fmtMs(check.ms),
        baseline: `${fmtMs(read)} (read the file once)`,
        ratio: ratio(check.ms, read),
        throughput: `${((size / MB) * (1000 / check.ms)).toFixed(0)} MB/s`,
      })
    }

    const year = build(dir, 'year.db', MINUTES_IN_YEAR)
    const copy = join(dir, 'year-bulk.db')
    copyFileSync(year, copy)
    const budget = 200 * MB
    const db: Db = openDb(year)
    const before = dbBytes(db).live
    const pruner = new Pruner({
      db,
      outbox: { pendingCount: () => 0, event: () => '' } as never,
      log: pino({ level: 'silent' }),
      budgetBytes: budget,
      retentionDays: 3650,
      now: () => START + MINUTES_IN_YEAR * 60_000,
    })
    const pruned = await longestStall(() => pruner.run())
    db.close()
    // Baseline: the same rows in one statement each, and the pages handed back in one go.
    const bulk = openDb(copy)
    const deleted = timed(() => {
      bulk.transaction(() => {
        bulk.prepare('DELETE FROM plays WHERE seq <= ?').run(pruned.value.plays)
        bulk.prepare('DELETE FROM relay_log WHERE seq <= ?').run(pruned.value.ampSwitchLog)
      })()
      bulk.pragma('incremental_vacuum')
    })
    bulk.close()
    const n = pruned.value.plays + pruned.value.ampSwitchLog
    rows.push({
      name: `agent db pruning a year (${(before / MB).toFixed(0)} MB) to the 200 MB budget: ${pruned.value.plays} plays, ${pruned.value.ampSwitchLog} amplifier switch log rows; event loop stall at most ${fmtMs(pruned.stallMs)}`,
      loa: fmtMs(pruned.ms),
      baseline: `${fmtMs(deleted.ms)} (one DELETE each, the loop blocked throughout)`,
      ratio: ratio(pruned.ms, deleted.ms),
      throughput: `${Math.round(n / (pruned.ms / 1000))} rows/s`,
    })

    const old = build(dir, 'old.db', 90 * 24 * 60)
    const o = openDb(old)
    o.pragma('auto_vacuum = NONE')
    o.exec('VACUUM')
    const size = statSync(old).size
    const read = readWhole(old)
    const vac = timed(() => {
      o.pragma('auto_vacuum = INCREMENTAL')
      o.exec('VACUUM')
    })
    o.close()
    rows.push({
      name: `agent db one-time conversion to incremental auto-vacuum (VACUUM), ${(size / MB).toFixed(0)} MB`,
      loa: fmtMs(vac.ms),
      baseline: `${fmtMs(read)} (read the file once)`,
      ratio: ratio(vac.ms, read),
      throughput: `${((size / MB) * (1000 / vac.ms)).toFixed(0)} MB/s`,
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}
