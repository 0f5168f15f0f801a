import type { Media } from '../media/model.js'
import type { MediaRepository } from '../media/repository.js'
import type { Fallback, Schedule } from '../schedules/model.js'
import type { FallbackRepository, ScheduleRepository } from '../schedules/repository.js'
import type { Db } from '../storage/db.js'
import type { Bulletin, BulletinStatus, Playlist } from './model.js'
import type { ContentRepository } from './repository.js'

interface MediaRow {
  sha256: string
  size: number
  duration_ms: number
  mime: string
  codec: string
  bitrate_kbps: number
  loudness: string
  original_name: string
  created_at: string
}
const toMedia = (r: MediaRow): Media => ({
  sha256: r.sha256,
  size: r.size,
  durationMs: r.duration_ms,
  mime: r.mime,
  codec: r.codec,
  bitrateKbps: r.bitrate_kbps,
  loudness: JSON.parse(r.loudness),
  originalName: r.original_name,
  createdAt: r.created_at,
})

export function sqliteMedia(db: Db): MediaRepository {
  const byId = db.prepare('SELECT * FROM media WHERE sha256 = ?')
  const bySource = db.prepare(
    'SELECT m.* FROM media_sources s JOIN media m ON m.sha256 = s.media_sha256 WHERE s.source_sha256 = ?',
  )
  const insertMedia = db.prepare(`INSERT OR IGNORE INTO media
    (sha256, size, duration_ms, mime, codec, bitrate_kbps, loudness, original_name, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const insertSource = db.prepare(
    'INSERT OR IGNORE INTO media_sources (source_sha256, media_sha256) VALUES (?, ?)',
  )
  const addOwner = db.prepare('INSERT OR IGNORE INTO media_owners (media_sha256, unit_id) VALUES (?, ?)')
  const ownedWithin = db.prepare(`SELECT DISTINCT media_sha256 FROM media_owners
    WHERE unit_id IS NULL OR unit_id IN (SELECT value FROM json_each(?))`)
  const insert = db.transaction((m: Media, source: string) => {
    const res = insertMedia.run(
      m.sha256,
      m.size,
      m.durationMs,
      m.mime,
      m.codec,
      m.bitrateKbps,
      JSON.stringify(m.loudness),
      m.originalName,
      m.createdAt,
    )
    insertSource.run(source, m.sha256)
    return res.changes === 0
  })
  return {
    async insert(media, source) {
      const existed = insert(media, source)
      return { media: toMedia(byId.get(media.sha256) as MediaRow), existed }
    },
    async get(sha) {
      const r = byId.get(sha) as MediaRow | undefined
      return r ? toMedia(r) : null
    },
    async getBySource(source) {
      const r = bySource.get(source) as MediaRow | undefined
      return r ? toMedia(r) : null
    },
    async list() {
      return (db.prepare('SELECT * FROM media ORDER BY created_at, sha256').all() as MediaRow[]).map(toMedia)
    },
    async addOwner(sha, unitId) {
      addOwner.run(sha, unitId)
    },
    async ownedWithin(unitIds) {
      const rows = ownedWithin.all(JSON.stringify(unitIds)) as { media_sha256: string }[]
      return new Set(rows.map((r) => r.media_sha256))
    },
  }
}

interface BulletinRow {
  id: string
  title: string
  level: Bulletin['level']
  media_sha256: string
  created_at: string
  unit_id: string | null
  status: BulletinStatus
  text: string | null
  voice: string | null
  created_by: string | null
  approved_by: string | null
  approved_at: string | null
}
const toBulletin = (r: BulletinRow): Bulletin => ({
  id: r.id,
  title: r.title,
  level: r.level,
  mediaSha256: r.media_sha256,
  createdAt: r.created_at,
  unitId: r.unit_id,
  status: r.status,
  text: r.text,
  voice: r.voice,
  createdBy: r.created_by,
  approvedBy: r.approved_by,
  approvedAt: r.approved_at,
})

interface PlaylistRow {
  id: string
  title: string
  created_at: string
  unit_id: string | null
}

export function sqliteContent(db: Db): ContentRepository {
  const itemsOf = db.prepare('SELECT bulletin_id FROM playlist_items WHERE playlist_id = ? ORDER BY position')
  const playlist = (r: PlaylistRow): Playlist => ({
    id: r.id,
    title: r.title,
    createdAt: r.created_at,
    unitId: r.unit_id,
    bulletinIds: (itemsOf.all(r.id) as { bulletin_id: string }[]).map((i) => i.bulletin_id),
  })
  const createPlaylist = db.transaction((p: Omit<Playlist, 'createdAt'>, createdAt: string) => {
    db.prepare('INSERT INTO playlists (id, title, created_at, unit_id) VALUES (?, ?, ?, ?)').run(
      p.id,
      p.title,
      createdAt,
      p.unitId ?? null,
    )
    const item = db.prepare(
      'INSERT INTO playlist_items (playlist_id, position, bulletin_id) VALUES (?, ?, ?)',
    )
    p.bulletinIds.forEach((b, i) => {
      item.run(p.id, i, b)
    })
  })
  const setItems = db.transaction((id: string, bulletinIds: string[]) => {
    db.prepare('DELETE FROM playlist_items WHERE playlist_id = ?').run(id)
    const item = db.prepare(
      'INSERT INTO playlist_items (playlist_id, position, bulletin_id) VALUES (?, ?, ?)',
    )
    bulletinIds.forEach((b, i) => {
      item.run(id, i, b)
    })
  })
  return {
    async createBulletin(b) {
      const createdAt = new Date().toISOString()
      db.prepare(`INSERT INTO bulletins (id, title, level, media_sha256, created_at, unit_id, status, text, voice,
        created_by, approved_by, approved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        b.id,
        b.title,
        b.level,
        b.mediaSha256,
        createdAt,
        b.unitId ?? null,
        b.status ?? 'approved',
        b.text ?? null,
        b.voice ?? null,
        b.createdBy ?? null,
        b.approvedBy ?? null,
        b.approvedAt ?? null,
      )
      return toBulletin(db.prepare('SELECT * FROM bulletins WHERE id = ?').get(b.id) as BulletinRow)
    },
    async approveBulletin(id, by, at) {
      return (
        db
          .prepare(`UPDATE bulletins SET status = 'approved', approved_by = ?, approved_at = ?
            WHERE id = ? AND status = 'draft'`)
          .run(by, at, id).changes > 0
      )
    },
    async revokeApproval(id) {
      db.prepare(
        `UPDATE bulletins SET status = 'draft', approved_by = NULL, approved_at = NULL WHERE id = ?`,
      ).run(id)
    },
    async setPlaylistItems(id, bulletinIds) {
      setItems(id, bulletinIds)
    },
    async getBulletin(id) {
      const r = db.prepare('SELECT * FROM bulletins WHERE id = ?').get(id) as BulletinRow | undefined
      return r ? toBulletin(r) : null
    },
    async listBulletins() {
      return (db.prepare('SELECT * FROM bulletins ORDER BY created_at, id').all() as BulletinRow[]).map(
        toBulletin,
      )
    },
    async createPlaylist(p) {
      const createdAt = new Date().toISOString()
      createPlaylist(p, createdAt)
      return { ...p, unitId: p.unitId ?? null, createdAt }
    },
    async getPlaylist(id) {
      const r = db.prepare('SELECT * FROM playlists WHERE id = ?').get(id) as PlaylistRow | undefined
      return r ? playlist(r) : null
    },
    async listPlaylists() {
      return (db.prepare('SELECT * FROM playlists ORDER BY created_at, id').all() as PlaylistRow[]).map(
        playlist,
      )
    },
  }
}

interface ScheduleRow {
  id: string
  title: string
  bulletin_id: string | null
  playlist_id: string | null
  recurrence: string
  targets: string
  priority: number
  volume: number | null
  enabled: number
  created_at: string
}
const toSchedule = (r: ScheduleRow): Schedule => ({
  id: r.id,
  title: r.title,
  bulletinId: r.bulletin_id,
  playlistId: r.playlist_id,
  recurrence: JSON.parse(r.recurrence),
  targets: JSON.parse(r.targets),
  priority: r.priority,
  volume: r.volume,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
})

export function sqliteSchedules(db: Db): ScheduleRepository {
  return {
    async create(s) {
      const createdAt = new Date().toISOString()
      db.prepare(`INSERT INTO schedules
        (id, title, bulletin_id, playlist_id, recurrence, targets, priority, volume, enabled, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        s.id,
        s.title,
        s.bulletinId,
        s.playlistId,
        JSON.stringify(s.recurrence),
        JSON.stringify(s.targets),
        s.priority,
        s.volume,
        s.enabled ? 1 : 0,
        createdAt,
      )
      return { ...s, createdAt }
    },
    async get(id) {
      const r = db.prepare('SELECT * FROM schedules WHERE id = ?').get(id) as ScheduleRow | undefined
      return r ? toSchedule(r) : null
    },
    async list(opts = {}) {
      const sql = `SELECT * FROM schedules ${opts.enabledOnly ? 'WHERE enabled = 1' : ''} ORDER BY created_at, id`
      return (db.prepare(sql).all() as ScheduleRow[]).map(toSchedule)
    },
    async delete(id) {
      return db.prepare('DELETE FROM schedules WHERE id = ?').run(id).changes > 0
    },
    async update(id, patch) {
      const r = db.prepare('SELECT * FROM schedules WHERE id = ?').get(id) as ScheduleRow | undefined
      if (!r) return null
      const next = { ...toSchedule(r), ...patch, id }
      db.prepare(`UPDATE schedules SET title = ?, recurrence = ?, targets = ?, priority = ?, volume = ?, enabled = ?
        WHERE id = ?`).run(
        next.title,
        JSON.stringify(next.recurrence),
        JSON.stringify(next.targets),
        next.priority,
        next.volume,
        next.enabled ? 1 : 0,
        id,
      )
      return next
    },
  }
}

interface FallbackRow {
  unit_id: string
  bulletin_ids: string
  windows: string
  volume: number | null
  updated_at: string
}
const toFallback = (r: FallbackRow): Fallback => ({
  unitId: r.unit_id,
  bulletinIds: JSON.parse(r.bulletin_ids),
  windows: JSON.parse(r.windows),
  volume: r.volume,
  updatedAt: r.updated_at,
})

export function sqliteFallbacks(db: Db): FallbackRepository {
  return {
    async put(f) {
      const updatedAt = new Date().toISOString()
      db.prepare(`INSERT INTO fallbacks (unit_id, bulletin_ids, windows, volume, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(unit_id) DO UPDATE SET bulletin_ids = excluded.bulletin_ids, windows = excluded.windows,
        volume = excluded.volume, updated_at = excluded.updated_at`).run(
        f.unitId,
        JSON.stringify(f.bulletinIds),
        JSON.stringify(f.windows),
        f.volume,
        updatedAt,
      )
      return { ...f, updatedAt }
    },
    async get(unitId) {
      const r = db.prepare('SELECT * FROM fallbacks WHERE unit_id = ?').get(unitId) as FallbackRow | undefined
      return r ? toFallback(r) : null
    },
    async delete(unitId) {
      return db.prepare('DELETE FROM fallbacks WHERE unit_id = ?').run(unitId).changes > 0
    },
    async list() {
      return (db.prepare('SELECT * FROM fallbacks').all() as FallbackRow[]).map(toFallback)
    },
  }
}
