import { closeSync, existsSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { desired, playReport } from '../../test-kit/messages.js'
import { silentLog, testAgentConfig, tmp } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'
import { DesiredStore } from '../desired/store.js'
import { Outbox } from '../link/outbox.js'
import { recordPlay } from '../playback/play-log.js'
import { kvSet, openDb } from './db.js'
import { markSuspect, openAgentDb } from './recovery.js'

const PAGE = 4096

/** A database as a box leaves it: a desired state, a play log, plays not yet receipted, replay protection. */
function fill(dataDir: string, plays: number): void {
  const db = openDb(join(dataDir, 'agent.db'))
  const outbox = new Outbox(db)
  new DesiredStore(db).saveReceived(desired(7, [{ sha256: 'c'.repeat(64), size: 10, url: '/m/c' }]))
  kvSet(db, 'signed_time_floor', '1780000000000')
  kvSet(db, 'scheduler.cursor', '2026-03-01T00:00:00.000Z')
  kvSet(db, 'control_plane_key', '{"garbled":')
  db.prepare('INSERT INTO seen_commands (command_id, at) VALUES (?, ?)').run('cmd-1', '2026-03-01T00:00:00Z')
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  db.transaction(() => {
    for (let i = 0; i < plays; i++) {
      const at = new Date(t0 + i * 60_000).toISOString()
      recordPlay(
        db,
        outbox,
        playReport({
          scheduleId: `s-${i % 5}`,
          title: `Bản tin số ${i}`,
          occurrence: at,
          startedAt: at,
          durationMs: 60_000,
        }),
      )
    }
    // Receipted long ago, except the last ten.
    db.prepare(
      "DELETE FROM outbox WHERE seq <= (SELECT max(seq) - 10 FROM outbox WHERE channel = 'play')",
    ).run()
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
}

function overwrite(file: string, offset: number, length: number, byte: number): void {
  const fd = openSync(file, 'r+')
  writeSync(fd, Buffer.alloc(length, byte), 0, length, offset)
  closeSync(fd)
}

function head(file: string, n: number): Buffer {
  const fd = openSync(file, 'r')
  const buf = Buffer.alloc(n)
  readSync(fd, buf, 0, n, 0)
  closeSync(fd)
  return buf
}

const damaged = (dataDir: string) =>
  readdirSync(dataDir).filter(
    (f) => /^agent\.db\.corrupt-[^-]+.*\d$/.test(f) || /^agent\.db\.corrupt-.*Z$/.test(f),
  )

describe('a damaged agent.db (power cut on an SD card)', () => {
  it('a destroyed header: moved aside untouched, a fresh database opened, no crash', () => {
    const dataDir = tmp()
    fill(dataDir, 100)
    const file = join(dataDir, 'agent.db')
    const size = statSync(file).size
    overwrite(file, 0, 100, 0x41)
    expect(() => new Database(file).pragma('journal_mode = WAL')).toThrow(/file is not a database/)

    const { db, recovery } = openAgentDb(dataDir, { now: () => Date.parse('2026-03-02T03:04:05.678Z') })
    expect(recovery).toMatchObject({
      code: 'SQLITE_NOTADB',
      detectedBy: 'open',
      damagedFile: 'agent.db.corrupt-2026-03-02T03-04-05-678Z',
      damagedBytes: size,
    })
    // Kept as it was, for diagnosis.
    expect(head(join(dataDir, recovery?.damagedFile ?? ''), 100)).toEqual(Buffer.alloc(100, 0x41))
    // The fresh one works and is complete (every migration ran).
    expect(db.prepare('SELECT count(*) AS n FROM plays').get()).toEqual({ n: 0 })
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(4)
    db.close()
    // The next start finds nothing wrong.
    const again = openAgentDb(dataDir)
    expect(again.recovery).toBeNull()
    again.db.close()
  })

  it('damaged pages in the middle: found by the check at start, and what is still readable is carried over', () => {
    const dataDir = tmp()
    fill(dataDir, 5000)
    const file = join(dataDir, 'agent.db')
    const probe = new Database(file, { readonly: true })
    const leaves = probe
      .prepare("SELECT pageno FROM dbstat WHERE name = 'plays' AND pagetype = 'leaf' ORDER BY pageno")
      .all() as { pageno: number }[]
    probe.close()
    const middle = leaves[Math.floor(leaves.length / 2)]?.pageno as number
    overwrite(file, (middle - 1) * PAGE, 3 * PAGE, 0x5a)

    const { db, recovery } = openAgentDb(dataDir)
    expect(recovery).toMatchObject({ detectedBy: 'check' })
    expect(recovery?.code).toMatch(/^SQLITE_CORRUPT/)
    // The desired state (so the box plays on offline), replay protection, the scheduler's cursor and the plays
    // not yet receipted are kept; a garbled rotated key is not.
    expect(new DesiredStore(db).received()?.version).toBe(7)
    const kv = Object.fromEntries(
      (db.prepare('SELECT key, value FROM kv').all() as { key: string; value: string }[]).map((r) => [
        r.key,
        r.value,
      ]),
    )
    expect(kv).toEqual({ signed_time_floor: '1780000000000', 'scheduler.cursor': '2026-03-01T00:00:00.000Z' })
    expect(db.prepare('SELECT command_id FROM seen_commands').all()).toEqual([{ command_id: 'cmd-1' }])
    const outbox = db.prepare("SELECT id FROM outbox WHERE channel = 'play'").all() as { id: string }[]
    expect(outbox).toHaveLength(10)
    // The newest plays are kept (read newest first, up to the damage), with their report ids and attempts.
    const kept = db.prepare('SELECT report_id, attempt FROM plays ORDER BY seq').all() as {
      report_id: string
    }[]
    expect(kept.length).toBeGreaterThan(100)
    expect(kept.length).toBeLessThan(5000)
    expect(recovery?.salvaged).toMatchObject({
      desired: 1,
      outbox: 10,
      seen_commands: 1,
      kv: 2,
      plays: kept.length,
    })
    for (const o of outbox) expect(kept.some((p) => p.report_id === o.id)).toBe(true)
    expect(db.pragma('quick_check', { simple: true })).toBe('ok')
    db.close()
  })

  it('a corruption seen while running is trusted at the next start, and only the newest damaged files are kept', () => {
    const dataDir = tmp()
    fill(dataDir, 10)
    const times = ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z']
    for (const at of times) {
      markSuspect(
        dataDir,
        Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }),
      )
      const { db, recovery } = openAgentDb(dataDir, { keepDamaged: 2, now: () => Date.parse(at) })
      expect(recovery).toMatchObject({
        detectedBy: 'run',
        code: 'SQLITE_CORRUPT',
        error: 'database disk image is malformed',
      })
      db.close()
    }
    expect(damaged(dataDir).sort()).toEqual([
      'agent.db.corrupt-2026-03-02T00-00-00-000Z',
      'agent.db.corrupt-2026-03-03T00-00-00-000Z',
    ])
    expect(existsSync(join(dataDir, 'agent.db.suspect'))).toBe(false)
    // A sound database is opened as it is.
    const { db, recovery } = openAgentDb(dataDir)
    expect(recovery).toBeNull()
    db.close()
  })

  it('a corruption met while running is handled once (no crash), and the next start recovers the file', async () => {
    const config = testAgentConfig('pi-db', 'mqtt://127.0.0.1:9')
    const agent = new Agent(config, silentLog)
    const seen: unknown[] = []
    agent.onStorageCorrupt = (err) => seen.push(err)
    await agent.start()
    for (let i = 0; i < 200; i++) agent.outbox.event('filler', 'info', 'x'.repeat(500))
    // Another connection checkpoints, damages the outbox's pages on disk, and writes (so the agent's page cache
    // is dropped at its next read, as it is after any change by someone else).
    const file = join(config.dataDir, 'agent.db')
    const other = new Database(file)
    other.pragma('wal_checkpoint(TRUNCATE)')
    const pages = other.prepare("SELECT pageno FROM dbstat WHERE name = 'outbox'").all() as {
      pageno: number
    }[]
    for (const p of pages) overwrite(file, (p.pageno - 1) * PAGE, PAGE, 0x5a)
    kvSet(other, 'poke', '1')
    other.close()
    // A refused message is reported through the outbox, whose pages are damaged: the handler must not throw.
    expect(() => agent.onMessage('loa/v1/device/pi-db/desired', Buffer.from('not json'))).not.toThrow()
    agent.onMessage('loa/v1/device/pi-db/desired', Buffer.from('not json either'))
    expect(seen).toHaveLength(1)
    expect((seen[0] as { code: string }).code).toMatch(/^SQLITE_CORRUPT/)
    expect(existsSync(join(config.dataDir, 'agent.db.suspect'))).toBe(true)
    await agent.stop().catch(() => {})
    if (agent.db.open) agent.db.close()

    const { db, recovery } = openAgentDb(config.dataDir)
    expect(recovery).toMatchObject({ detectedBy: 'run' })
    expect(recovery?.code).toMatch(/^SQLITE_CORRUPT/)
    expect(db.pragma('quick_check', { simple: true })).toBe('ok')
    db.close()
  })
})
