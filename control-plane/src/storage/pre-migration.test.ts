import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { canMountSmallDisk, fillDisk, mountSmallDisk, unmountSmallDisk } from '@loa/testkit'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { startTestPlane } from '../../test-kit/test-helpers.js'
import { fileStamp } from './backup-files.js'
import { migrate, openDatabase } from './db.js'
import { MIGRATIONS } from './migrations/index.js'

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version))
const OLDER = (MIGRATIONS[MIGRATIONS.length - 2] as { version: number }).version

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-premig-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = () => {
  const d = path.join(root, `d${n++}`)
  fs.mkdirSync(d)
  return d
}

/** A database as the previous version left it: migrations up to OLDER, with a row in it. */
function olderDatabase(dir: string): string {
  const file = path.join(dir, 'loa.db')
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  migrate(db, OLDER)
  db.prepare("INSERT INTO units (id, name, kind, created_at) VALUES ('p', 'Tỉnh', 'province', ?)").run(
    new Date().toISOString(),
  )
  db.close()
  return file
}

const versionOf = (file: string): number => {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v
  } finally {
    db.close()
  }
}

const backupsIn = (dir: string) =>
  fs.existsSync(path.join(dir, 'backups')) ? fs.readdirSync(path.join(dir, 'backups')).sort() : []

describe('backup before a database migration', () => {
  it('is not made for a brand-new database, nor for one already up to date', () => {
    const dir = freshDir()
    openDatabase(path.join(dir, 'loa.db')).close()
    openDatabase(path.join(dir, 'loa.db')).close()
    expect(fs.existsSync(path.join(dir, 'backups'))).toBe(false)
  })

  it('copies an older database as it was, logs it, then migrates; opening again adds none', () => {
    const dir = freshDir()
    const file = olderDatabase(dir)
    const logged: Record<string, unknown>[] = []
    const db = openDatabase(file, { log: { info: (obj) => logged.push(obj) } })
    db.close()
    const files = backupsIn(dir)
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(
      new RegExp(`^pre-migration-${OLDER}-to-${LATEST}-\\d{8}T\\d{6}\\.\\d{3}Z\\.sqlite$`),
    )
    const copy = path.join(dir, 'backups', files[0] as string)
    expect(versionOf(copy)).toBe(OLDER)
    const c = new Database(copy, { readonly: true })
    expect(c.pragma('integrity_check', { simple: true })).toBe('ok')
    expect(c.prepare('SELECT name FROM units').all()).toEqual([{ name: 'Tỉnh' }])
    c.close()
    expect(logged).toEqual([{ file: copy, from: OLDER, to: LATEST }])
    expect(versionOf(file)).toBe(LATEST)
    openDatabase(file).close()
    expect(backupsIn(dir)).toEqual(files)
  })

  it('keeps the newest five', () => {
    const dir = freshDir()
    const file = olderDatabase(dir)
    fs.mkdirSync(path.join(dir, 'backups'))
    const day = 86_400_000
    const old = [6, 5, 4, 3, 2, 1].map(
      (d) => `pre-migration-1-to-2-${fileStamp(new Date(Date.now() - d * day))}.sqlite`,
    )
    for (const name of old) fs.writeFileSync(path.join(dir, 'backups', name), 'old')
    fs.writeFileSync(path.join(dir, 'backups', 'notes.txt'), 'not ours')
    openDatabase(file).close()
    const left = backupsIn(dir)
    expect(left).toHaveLength(6)
    expect(left).toContain('notes.txt')
    expect(left).not.toContain(old[0])
    expect(left).not.toContain(old[1])
    expect(left).toEqual(expect.arrayContaining(old.slice(2)))
    expect(left.some((n) => n.startsWith(`pre-migration-${OLDER}-to-${LATEST}-`))).toBe(true)
  })

  it('when the backup cannot be written, does not migrate and the control plane does not start', async () => {
    const dir = freshDir()
    const file = olderDatabase(dir)
    fs.writeFileSync(path.join(dir, 'backups'), 'a file where the directory should be')
    expect(() => openDatabase(file)).toThrow(
      expect.objectContaining({ code: 'LOA_BACKUP_PRE_MIGRATION_FAILED' }),
    )
    expect(versionOf(file)).toBe(OLDER)
    await expect(startTestPlane({ dataDir: dir })).rejects.toMatchObject({
      code: 'LOA_BACKUP_PRE_MIGRATION_FAILED',
    })
    expect(versionOf(file)).toBe(OLDER)
    fs.rmSync(path.join(dir, 'backups'))
    openDatabase(file).close()
    expect(versionOf(file)).toBe(LATEST)
  })

  const mountable = canMountSmallDisk(path.join(root, 'probe'))
  it.skipIf(!mountable)('on a full disk (tmpfs), refuses to migrate and leaves the database usable', () => {
    const dir = path.join(root, 'small')
    expect(mountSmallDisk(dir, 4)).toBe(true)
    try {
      const file = olderDatabase(dir)
      // Room for SQLite's shared-memory file when opening, not for a copy of the database.
      const spare = path.join(dir, 'spare')
      fs.writeFileSync(spare, Buffer.alloc(96 * 1024))
      expect(fs.statSync(file).size).toBeGreaterThan(3 * 96 * 1024)
      const filler = fillDisk(dir)
      fs.rmSync(spare)
      expect(() => openDatabase(file)).toThrow(
        expect.objectContaining({ code: 'LOA_BACKUP_PRE_MIGRATION_FAILED' }),
      )
      expect(versionOf(file)).toBe(OLDER)
      expect(fs.readdirSync(path.join(dir, 'backups'))).toEqual([]) // no half-written copy left
      fs.rmSync(filler)
      openDatabase(file).close()
      expect(versionOf(file)).toBe(LATEST)
      expect(backupsIn(dir)).toHaveLength(1)
    } finally {
      unmountSmallDisk(dir)
    }
  })
})
