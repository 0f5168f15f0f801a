import type { Db } from './db.js'
import type { Alert } from './domain.js'
import type { AlertRepository } from './repositories.js'
import { ALERT_TARGETS, stageTargets } from './sqlite-targets.js'

interface AlertRow {
  id: string
  revision: number
  ack_id: string
  title: string
  level: Alert['level']
  priority: number
  items: string
  repeat: number
  starts_at: string
  expires_at: string
  audible: number
  volume: number | null
  state: Alert['state']
  targets: string
  source: Alert['source']
  created_at: string
  updated_at: string
}
const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  revision: r.revision,
  ackId: r.ack_id,
  title: r.title,
  level: r.level,
  priority: r.priority,
  items: JSON.parse(r.items),
  repeat: r.repeat,
  startsAt: r.starts_at,
  expiresAt: r.expires_at,
  audible: r.audible === 1,
  volume: r.volume,
  state: r.state,
  targets: JSON.parse(r.targets),
  source: r.source,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export function sqliteAlerts(db: Db): AlertRepository {
  const ins = db.prepare(`INSERT INTO alerts (id, revision, ack_id, title, level, priority, items, repeat,
    starts_at, expires_at, audible, volume, state, targets, source, created_at, updated_at) VALUES (@id, @revision,
    @ackId, @title, @level, @priority, @items, @repeat, @startsAt, @expiresAt, @audible, @volume, @state, @targets,
    @source, @createdAt, @updatedAt)`)
  const upd =
    db.prepare(`UPDATE alerts SET revision = @revision, ack_id = @ackId, title = @title, level = @level,
    priority = @priority, items = @items, repeat = @repeat, starts_at = @startsAt, expires_at = @expiresAt,
    audible = @audible, volume = @volume, state = @state, updated_at = @updatedAt WHERE id = @id`)
  const targets = stageTargets(db, ALERT_TARGETS)
  const params = (a: Alert) => ({
    ...a,
    items: JSON.stringify(a.items),
    targets: JSON.stringify(a.targets),
    audible: a.audible ? 1 : 0,
  })
  const create = db.transaction((a: Alert, clusterIds: string[]) => {
    ins.run(params(a))
    targets.insert(a.id, clusterIds)
    targets.catchUp(a.ackId)
  })
  const revise = db.transaction((a: Alert) => {
    upd.run(params(a))
    targets.reset(a.id)
    targets.catchUp(a.ackId)
  })
  const ORDER = 'ORDER BY priority DESC, created_at, id'
  return {
    async create(alert, clusterIds) {
      create(alert, clusterIds)
    },
    async revise(alert) {
      revise(alert)
    },
    async setState(id, state) {
      db.prepare('UPDATE alerts SET state = ?, updated_at = ? WHERE id = ?').run(
        state,
        new Date().toISOString(),
        id,
      )
    },
    async get(id) {
      const r = db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined
      return r ? toAlert(r) : null
    },
    async list(opts = {}) {
      const rows = (
        opts.state
          ? db
              .prepare(`SELECT * FROM alerts WHERE state = ? ${ORDER} LIMIT ?`)
              .all(opts.state, opts.limit ?? 1000)
          : db.prepare(`SELECT * FROM alerts ${ORDER} LIMIT ?`).all(opts.limit ?? 1000)
      ) as AlertRow[]
      return rows.map(toAlert)
    },
    async targets(id) {
      return targets.targets(id)
    },
    async targetIds(id) {
      return targets.targetIds(id)
    },
    async counts(id) {
      return targets.counts(id)
    },
    async activeWithTargets() {
      const alerts = (
        db.prepare(`SELECT * FROM alerts WHERE state = 'active' ${ORDER}`).all() as AlertRow[]
      ).map(toAlert)
      const byAlert = new Map<string, string[]>(alerts.map((a) => [a.id, []]))
      const rows = db
        .prepare(`SELECT t.alert_id, t.cluster_id FROM alert_targets t JOIN alerts a ON a.id = t.alert_id
          WHERE a.state = 'active'`)
        .all() as { alert_id: string; cluster_id: string }[]
      for (const r of rows) byAlert.get(r.alert_id)?.push(r.cluster_id)
      return alerts.map((alert) => ({ alert, clusterIds: byAlert.get(alert.id) ?? [] }))
    },
    async capGet(sender, identifier) {
      const r = db
        .prepare('SELECT alert_id, msg_type FROM cap_messages WHERE sender = ? AND identifier = ?')
        .get(sender, identifier) as { alert_id: string; msg_type: string } | undefined
      return r ? { alertId: r.alert_id, msgType: r.msg_type } : null
    },
    async capPut(r) {
      db.prepare(`INSERT OR IGNORE INTO cap_messages (sender, identifier, sent, msg_type, alert_id, received_at)
        VALUES (?, ?, ?, ?, ?, ?)`).run(
        r.sender,
        r.identifier,
        r.sent,
        r.msgType,
        r.alertId,
        new Date().toISOString(),
      )
    },
  }
}
