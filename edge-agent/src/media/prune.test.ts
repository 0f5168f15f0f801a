import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { silentLog, tmp } from '../../test-kit/test-helpers.js'
import { Outbox } from '../link/outbox.js'
import { MINUTES_IN_YEAR, yearOfPlays } from '../playback/year-of-plays.js'
import { type Db, openDb } from '../storage/db.js'
import { openAgentDb } from '../storage/recovery.js'
import { convertToIncremental, dbBytes, Pruner } from './prune.js'

const MB = 1024 * 1024
const YEAR_START = Date.parse('2026-01-01T00:00:00Z')
const MINUTES = MINUTES_IN_YEAR

const count = (db: Db, sql: string, ...p: unknown[]) => (db.prepare(sql).get(...p) as { n: number }).n

function pruner(db: Db, budgetMb: number, retentionDays: number, now: number) {
  return new Pruner({
    db,
    outbox: new Outbox(db),
    log: silentLog,
    budgetBytes: budgetMb * MB,
    retentionDays,
    now: () => now,
  })
}

describe('pruning the play log and the amplifier switch log', () => {
  // The oldest, one in the middle and the newest are still waiting for their receipt.
  const unreceipted = [0, 1, 2, 200_000, MINUTES - 1]
  const endOfYear = YEAR_START + MINUTES * 60_000

  it('a year of every-minute plays is pruned to the disk budget; unreceipted plays are never deleted', async () => {
    const db = openDb(join(tmp(), 'agent.db'))
    yearOfPlays(db, YEAR_START, unreceipted)
    const before = dbBytes(db)
    expect(before.live).toBeGreaterThan(150 * MB) // a year is well over the budget below
    // Retention longer than the year: only the budget decides.
    const r = await pruner(db, 50, 3650, endOfYear).run()
    expect(r.liveBytesAfter).toBeLessThanOrEqual(50 * MB)
    // The pages went back to the disk (a new database vacuums incrementally), not only to the free list.
    expect(r.fileBytesAfter).toBeLessThanOrEqual(52 * MB)
    expect(r.overBudget).toBe(false)
    for (const i of unreceipted) {
      expect(
        count(db, 'SELECT count(*) AS n FROM plays WHERE report_id = ?', `r-${String(i).padStart(8, '0')}`),
      ).toBe(1)
    }
    // The oldest went first: what is left (besides the unreceipted) is the most recent part of the year, whole.
    const oldestKept = db
      .prepare('SELECT min(occurrence) AS at FROM plays WHERE report_id NOT IN (SELECT id FROM outbox)')
      .get() as { at: string }
    const kept = count(db, 'SELECT count(*) AS n FROM plays') - unreceipted.length + 1
    expect(count(db, 'SELECT count(*) AS n FROM plays WHERE occurrence >= ?', oldestKept.at)).toBe(kept)
    expect(Date.parse(oldestKept.at)).toBeGreaterThan(YEAR_START + 180 * 86_400_000)
    expect(count(db, 'SELECT count(*) AS n FROM relay_log WHERE at < ?', oldestKept.at)).toBeLessThan(1000)
    expect(db.pragma('quick_check', { simple: true })).toBe('ok')
    db.close()
  }, 120_000)

  it('past the retention everything receipted goes; recent and unreceipted rows stay', async () => {
    const db = openDb(join(tmp(), 'agent.db'))
    yearOfPlays(db, YEAR_START, unreceipted)
    const r = await pruner(db, 1000, 30, endOfYear).run()
    const cutoff = new Date(endOfYear - 30 * 86_400_000).toISOString()
    expect(count(db, 'SELECT count(*) AS n FROM plays WHERE relay_off_at < ?', cutoff)).toBe(4) // unreceipted
    expect(count(db, 'SELECT count(*) AS n FROM plays WHERE relay_off_at >= ?', cutoff)).toBe(30 * 24 * 60)
    expect(count(db, 'SELECT count(*) AS n FROM relay_log WHERE at < ?', cutoff)).toBe(0)
    expect(r.plays).toBe(MINUTES - 30 * 24 * 60 - 4)
    expect(r.liveBytesAfter).toBeLessThan(30 * MB)
    db.close()
  }, 120_000)

  it('a budget that only unreceipted rows exceed is reported, not met by deleting them', async () => {
    const db = openDb(join(tmp(), 'agent.db'))
    yearOfPlays(db, YEAR_START, [])
    db.exec(
      "INSERT INTO outbox (id, channel, body, created_at) SELECT report_id, 'play', '{}', '' FROM plays",
    )
    const r = await pruner(db, 1, 1, endOfYear).run()
    expect(r).toMatchObject({ plays: 0, overBudget: true })
    expect(count(db, 'SELECT count(*) AS n FROM plays')).toBe(MINUTES)
    const said = db.prepare("SELECT body FROM outbox WHERE channel = 'event'").all() as { body: string }[]
    expect(said.map((e) => JSON.parse(e.body).kind)).toEqual(['storage-over-budget'])
    db.close()
  }, 120_000)

  it('a database from before auto_vacuum: pruned in place while large, converted at start once small, then it shrinks', async () => {
    const dataDir = tmp()
    const old = openDb(join(dataDir, 'agent.db'))
    old.pragma('auto_vacuum = NONE')
    old.exec('VACUUM')
    expect(old.pragma('auto_vacuum', { simple: true })).toBe(0)
    yearOfPlays(old, YEAR_START, [])
    old.close()
    // Too large to convert at start without delaying it: pruned all the same, its file stops growing.
    const first = openAgentDb(dataDir).db
    expect(convertToIncremental(first, silentLog)).toBe(false)
    const r = await pruner(first, 50, 3650, endOfYear).run()
    expect(r.liveBytesAfter).toBeLessThanOrEqual(50 * MB)
    expect(r.fileBytesAfter).toBeGreaterThan(200 * MB)
    first.close()
    // Small now: the next start converts it, and the file shrinks to what it holds.
    const { db } = openAgentDb(dataDir)
    expect(convertToIncremental(db, silentLog)).toBe(true)
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2)
    expect(dbBytes(db).file).toBeLessThanOrEqual(51 * MB)
    db.close()
  }, 120_000)
})
