import type { Db } from '../storage/db.js'
import type { Fallback, Schedule } from './model.js'
import type { FallbackRepository, ScheduleRepository } from './repository.js'

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
