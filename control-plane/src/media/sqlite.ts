import type { Db } from '../storage/db.js'
import type { Media } from './model.js'
import type { MediaRepository } from './repository.js'

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
