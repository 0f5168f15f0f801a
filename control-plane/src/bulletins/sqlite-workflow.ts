import type { Db } from '../storage/db.js'
import type { Delivery, Programme, UnitSettings } from './model.js'
import type { DeliveryQuery, WorkflowRepository } from './repository.js'

interface DeliveryRow {
  id: string
  bulletin_id: string
  from_unit_id: string
  to_unit_id: string
  level: Delivery['level']
  state: Delivery['state']
  note: string | null
  reason: string | null
  programme_id: string | null
  alert_id: string | null
  sent_by: string
  sent_at: string
  decided_by: string | null
  decided_at: string | null
}
const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  bulletinId: r.bulletin_id,
  fromUnitId: r.from_unit_id,
  toUnitId: r.to_unit_id,
  level: r.level,
  state: r.state,
  note: r.note,
  reason: r.reason,
  programmeId: r.programme_id,
  alertId: r.alert_id,
  sentBy: r.sent_by,
  sentAt: r.sent_at,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
})

interface ProgrammeRow {
  id: string
  unit_id: string
  starts_at: string
  playlist_id: string
  schedule_id: string
  created_at: string
}
const toProgramme = (r: ProgrammeRow): Programme => ({
  id: r.id,
  unitId: r.unit_id,
  startsAt: r.starts_at,
  playlistId: r.playlist_id,
  scheduleId: r.schedule_id,
  createdAt: r.created_at,
})

export function sqliteWorkflow(db: Db): WorkflowRepository {
  const insDelivery =
    db.prepare(`INSERT INTO deliveries (id, bulletin_id, from_unit_id, to_unit_id, level, state,
    note, reason, programme_id, alert_id, sent_by, sent_at, decided_by, decided_at)
    VALUES (@id, @bulletinId, @fromUnitId, @toUnitId, @level, @state, @note, @reason, @programmeId, @alertId,
    @sentBy, @sentAt, @decidedBy, @decidedAt)`)
  const createDeliveries = db.transaction((ds: Delivery[]) => {
    for (const d of ds) insDelivery.run(d)
  })
  return {
    async getSettings(unitId) {
      const r = db.prepare('SELECT * FROM unit_settings WHERE unit_id = ?').get(unitId) as
        | { unit_id: string; requires_approval: number; slots: string; updated_at: string }
        | undefined
      return r
        ? {
            unitId: r.unit_id,
            requiresApproval: r.requires_approval === 1,
            slots: JSON.parse(r.slots),
            updatedAt: r.updated_at,
          }
        : null
    },
    async putSettings(s) {
      const updatedAt = new Date().toISOString()
      db.prepare(`INSERT INTO unit_settings (unit_id, requires_approval, slots, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(unit_id) DO UPDATE SET requires_approval = excluded.requires_approval, slots = excluded.slots,
        updated_at = excluded.updated_at`).run(
        s.unitId,
        s.requiresApproval ? 1 : 0,
        JSON.stringify(s.slots),
        updatedAt,
      )
      return { ...s, updatedAt } satisfies UnitSettings
    },
    async createDeliveries(ds) {
      createDeliveries(ds)
    },
    async getDelivery(id) {
      const r = db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow | undefined
      return r ? toDelivery(r) : null
    },
    async listDeliveries(q: DeliveryQuery) {
      const where: string[] = []
      const params: unknown[] = []
      if (q.toUnitIds) {
        where.push('to_unit_id IN (SELECT value FROM json_each(?))')
        params.push(JSON.stringify(q.toUnitIds))
      }
      if (q.fromUnitIds) {
        where.push('from_unit_id IN (SELECT value FROM json_each(?))')
        params.push(JSON.stringify(q.fromUnitIds))
      }
      if (q.bulletinId !== undefined) {
        where.push('bulletin_id = ?')
        params.push(q.bulletinId)
      }
      if (q.state !== undefined) {
        where.push('state = ?')
        params.push(q.state)
      }
      const sql = `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY sent_at DESC, id LIMIT ?`
      return (db.prepare(sql).all(...params, q.limit) as DeliveryRow[]).map(toDelivery)
    },
    async decideDelivery(id, from, p) {
      return (
        db
          .prepare(`UPDATE deliveries SET state = ?, decided_by = ?, decided_at = ?,
            reason = coalesce(?, reason), programme_id = coalesce(?, programme_id), alert_id = coalesce(?, alert_id)
            WHERE id = ? AND state = ?`)
          .run(
            p.state,
            p.decidedBy,
            p.decidedAt,
            p.reason ?? null,
            p.programmeId ?? null,
            p.alertId ?? null,
            id,
            from,
          ).changes > 0
      )
    },
    async createProgramme(p) {
      const createdAt = new Date().toISOString()
      db.prepare(`INSERT INTO programmes (id, unit_id, starts_at, playlist_id, schedule_id, created_at)
        VALUES (?, ?, ?, ?, ?, ?)`).run(p.id, p.unitId, p.startsAt, p.playlistId, p.scheduleId, createdAt)
      return { ...p, createdAt }
    },
    async getProgramme(id) {
      const r = db.prepare('SELECT * FROM programmes WHERE id = ?').get(id) as ProgrammeRow | undefined
      return r ? toProgramme(r) : null
    },
    async findProgramme(unitId, startsAt) {
      // Only a programme whose schedule still exists can take more bulletins.
      const r = db
        .prepare(`SELECT p.* FROM programmes p JOIN schedules s ON s.id = p.schedule_id
          WHERE p.unit_id = ? AND p.starts_at = ? ORDER BY p.created_at LIMIT 1`)
        .get(unitId, startsAt) as ProgrammeRow | undefined
      return r ? toProgramme(r) : null
    },
    async listProgrammes(q) {
      const rows = db
        .prepare(`SELECT p.* FROM programmes p JOIN schedules s ON s.id = p.schedule_id
          WHERE p.unit_id IN (SELECT value FROM json_each(?)) AND p.starts_at >= ? AND p.starts_at < ?
          ORDER BY p.starts_at, p.id`)
        .all(JSON.stringify(q.unitIds), q.from, q.to) as ProgrammeRow[]
      return rows.map(toProgramme)
    },
    async moveProgrammeOf(scheduleId, startsAt) {
      db.prepare('UPDATE programmes SET starts_at = ? WHERE schedule_id = ?').run(startsAt, scheduleId)
    },
  }
}
