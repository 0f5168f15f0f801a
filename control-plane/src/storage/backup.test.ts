import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from '@loa/testkit'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { createBackup, restoreBackup } from './backup.js'
import { openDatabase } from './db.js'

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const BATCH = 10

/**
 * Another process writing to the database as the control plane does (WAL, its own connection): audit rows in
 * transactions of BATCH, as fast as it can, until killed.
 */
const WRITER = `
const Database = require('better-sqlite3')
const db = new Database(process.argv[1])
db.pragma('journal_mode = WAL')
db.pragma('busy_timeout = 5000')
const ins = db.prepare("INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, outcome, details) VALUES (?, 'system', 'w', 'writer', 'test.write', 200, ?)")
const batch = db.transaction((n) => { for (let i = 0; i < ${BATCH}; i++) ins.run(new Date().toISOString(), JSON.stringify({ n, i })) })
let n = 0
const loop = () => { for (let k = 0; k < 20; k++) batch(n++); setImmediate(loop) }
loop()
`

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-backup-'))
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
  fs.rmSync(root, { recursive: true, force: true })
})

const rowsIn = (file: string): number => {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n
  } finally {
    db.close()
  }
}

describe('createBackup while another process writes', () => {
  it('copies one consistent snapshot: integrity ok, whole transactions only, the writer never stopped', async () => {
    const dataDir = path.join(root, 'data')
    const file = path.join(dataDir, 'loa.db')
    openDatabase(file).close()
    fs.mkdirSync(path.join(dataDir, 'signing'))
    fs.writeFileSync(path.join(dataDir, 'signing', 'keys.json'), '{}\n')
    const writer = spawn(process.execPath, ['-e', WRITER, file], {
      cwd: PKG,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    children.push(writer)
    let stderr = ''
    writer.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    await waitFor(() => rowsIn(file) >= 2000, 30_000, `the writer's first rows (${stderr})`)

    const at = new Date()
    const r = await createBackup(dataDir, path.join(root, 'b.tar'), { now: () => at })
    expect(r.manifest.createdAt).toBe(at.toISOString())
    const after = rowsIn(file)
    // Still writing after the backup: it was never blocked, and it goes on past what the snapshot holds.
    await waitFor(() => rowsIn(file) > after, 10_000, 'rows written after the backup')
    writer.kill('SIGKILL')
    expect(stderr).toBe('')

    const restored = path.join(root, 'restored')
    await restoreBackup(r.archive, restored)
    const db = new Database(path.join(restored, 'loa.db'), { readonly: true })
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      const { n, max } = db.prepare('SELECT count(*) AS n, max(id) AS max FROM audit_log').get() as {
        n: number
        max: number
      }
      expect(n).toBeGreaterThanOrEqual(2000)
      expect(n).toBeLessThan(rowsIn(file))
      // Rows present up to a point, none missing before it, no transaction cut in half.
      expect(max).toBe(n)
      expect(n % BATCH).toBe(0)
    } finally {
      db.close()
    }
    expect(fs.readFileSync(path.join(restored, 'signing', 'keys.json'), 'utf8')).toBe('{}\n')
    expect(fs.existsSync(path.join(restored, 'loa.db-wal'))).toBe(false)
  })
})
