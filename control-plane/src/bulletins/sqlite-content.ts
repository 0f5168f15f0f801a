import type { Db } from '../storage/db.js'
import type { Bulletin, BulletinStatus, Playlist } from './model.js'
import type { ContentRepository } from './repository.js'

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
