import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { migrate } from '../db.js'
import { MIGRATIONS } from './index.js'
import { WEB_SCOPE_MIGRATION } from './web.js'

/** Version 10 on a database made before it: existing playlists and media get their units (storage/migrations/web.ts). */
describe('migration: playlist units and media owners', () => {
  it('gives existing playlists the unit of their programme or bulletins, and existing media owners', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-mig-'))
    const db = new Database(path.join(dir, 'loa.db'))
    try {
      db.pragma('foreign_keys = ON')
      // The database as the previous release left it: every migration before this one.
      db.exec(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      )
      for (const m of MIGRATIONS.filter((x) => x.version < WEB_SCOPE_MIGRATION.version)) {
        db.exec(m.sql)
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'x')
      }
      const at = '2026-01-01T00:00:00.000Z'
      for (const [id, parent] of [
        ['prov', null],
        ['xa-a', 'prov'],
        ['xa-b', 'prov'],
      ]) {
        db.prepare('INSERT INTO units (id, parent_id, name, kind, created_at) VALUES (?, ?, ?, ?, ?)').run(
          id,
          parent,
          id,
          'commune',
          at,
        )
      }
      const sha = (x: string) => x.repeat(64).slice(0, 64)
      for (const m of ['a', 'b', 'p', 'loose'].map(sha)) {
        db.prepare(
          `INSERT INTO media (sha256, size, duration_ms, mime, codec, bitrate_kbps, loudness, original_name, created_at)
           VALUES (?, 1, 1, 'audio/ogg', 'opus', 32, '{}', 'x', ?)`,
        ).run(m, at)
      }
      for (const [id, unit, media] of [
        ['b-a', 'xa-a', 'a'],
        ['b-b', 'xa-b', 'b'],
        ['b-p', null, 'p'],
      ] as const) {
        db.prepare(
          'INSERT INTO bulletins (id, title, level, media_sha256, created_at, unit_id) VALUES (?, ?, ?, ?, ?, ?)',
        ).run(id, id, 'normal', sha(media), at, unit)
      }
      const playlist = (id: string, items: string[]) => {
        db.prepare('INSERT INTO playlists (id, title, created_at) VALUES (?, ?, ?)').run(id, id, at)
        items.forEach((b, i) => {
          db.prepare('INSERT INTO playlist_items VALUES (?, ?, ?)').run(id, i, b)
        })
      }
      playlist('p-a', ['b-p', 'b-a'])
      playlist('p-prov', ['b-p'])
      playlist('p-prog', ['b-p'])
      db.prepare("INSERT INTO programmes VALUES ('pg-1', 'xa-b', ?, 'p-prog', 's-1', ?)").run(at, at)

      migrate(db)

      const units = db.prepare('SELECT id, unit_id FROM playlists ORDER BY id').all()
      expect(units).toEqual([
        { id: 'p-a', unit_id: 'xa-a' },
        { id: 'p-prog', unit_id: 'xa-b' },
        { id: 'p-prov', unit_id: null },
      ])
      const owners = db
        .prepare('SELECT substr(media_sha256, 1, 1) AS m, unit_id FROM media_owners ORDER BY m')
        .all()
      expect(owners).toEqual([
        { m: 'a', unit_id: 'xa-a' },
        { m: 'b', unit_id: 'xa-b' },
        { m: 'l', unit_id: null },
        { m: 'p', unit_id: null },
      ])
    } finally {
      db.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
