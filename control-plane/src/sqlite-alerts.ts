import type { Db } from './db.js'
import type { Alert, AlertCounts, AlertStage, AlertTargetStatus } from './domain.js'
import type { AlertRepository } from './repositories.js'

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

export const ALERT_STAGES: readonly AlertStage[] = [
  'received',
  'playing',
  'done',
  'failed',
  'cancelled',
  'expired',
]

/**
 * Keeps the latest stage per (alert, cluster): a later stage in the life of an alert wins over an earlier one
 * (acks leave a device's outbox in order, but re-sends may overtake); among final stages the later `at` wins.
 * Acks of an older revision carry an older ack id and no longer match.
 */
const RANK = (col: string) => `CASE ${col} WHEN 'received' THEN 1 WHEN 'playing' THEN 2 ELSE 3 END`
export const ALERT_ACK_SQL = `UPDATE alert_targets SET stage = @stage, at = @at, reason = @reason
  WHERE alert_id = (SELECT id FROM alerts WHERE ack_id = @ackId) AND cluster_id = @clusterId
  AND (stage IS NULL OR ${RANK('@stage')} > ${RANK('stage')} OR (${RANK('@stage')} = ${RANK('stage')} AND @at >= at))`

export function isAlertStage(stage: string): stage is AlertStage {
  return (ALERT_STAGES as readonly string[]).includes(stage)
}

export function sqliteAlerts(db: Db): AlertRepository {
  const ins = db.prepare(`INSERT INTO alerts (id, revision, ack_id, title, level, priority, items, repeat,
    starts_at, expires_at, audible, volume, state, targets, source, created_at, updated_at) VALUES (@id, @revision,
    @ackId, @title, @level, @priority, @items, @repeat, @startsAt, @expiresAt, @audible, @volume, @state, @targets,
    @source, @createdAt, @updatedAt)`)
  const upd =
    db.prepare(`UPDATE alerts SET revision = @revision, ack_id = @ackId, title = @title, level = @level,
    priority = @priority, items = @items, repeat = @repeat, starts_at = @startsAt, expires_at = @expiresAt,
    audible = @audible, volume = @volume, state = @state, updated_at = @updatedAt WHERE id = @id`)
  const insTarget = db.prepare('INSERT OR IGNORE INTO alert_targets (alert_id, cluster_id) VALUES (?, ?)')
  const resetTargets = db.prepare(
    'UPDATE alert_targets SET stage = NULL, at = NULL, reason = NULL WHERE alert_id = ?',
  )
  const ack = db.prepare(ALERT_ACK_SQL)
  const earlyAcks = db.prepare(
    'SELECT cluster_id, stage, at, reason FROM command_acks WHERE command_id = ? ORDER BY at',
  )
  const params = (a: Alert) => ({
    ...a,
    items: JSON.stringify(a.items),
    targets: JSON.stringify(a.targets),
    audible: a.audible ? 1 : 0,
  })
  // Publishing comes before bookkeeping, so a fast device's acks may already be stored: fold them in.
  const catchUp = (ackId: string) => {
    const rows = earlyAcks.all(ackId) as {
      cluster_id: string
      stage: string
      at: string
      reason: string | null
    }[]
    for (const r of rows) {
      if (isAlertStage(r.stage))
        ack.run({ stage: r.stage, at: r.at, reason: r.reason, ackId, clusterId: r.cluster_id })
    }
  }
  const create = db.transaction((a: Alert, clusterIds: string[]) => {
    ins.run(params(a))
    for (const c of clusterIds) insTarget.run(a.id, c)
    catchUp(a.ackId)
  })
  const revise = db.transaction((a: Alert) => {
    upd.run(params(a))
    resetTargets.run(a.id)
    catchUp(a.ackId)
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
      const rows = db
        .prepare(
          'SELECT cluster_id, stage, at, reason FROM alert_targets WHERE alert_id = ? ORDER BY cluster_id',
        )
        .all(id) as {
        cluster_id: string
        stage: AlertStage | null
        at: string | null
        reason: string | null
      }[]
      return rows.map(
        (r): AlertTargetStatus => ({ clusterId: r.cluster_id, stage: r.stage, at: r.at, reason: r.reason }),
      )
    },
    async targetIds(id) {
      return (
        db.prepare('SELECT cluster_id FROM alert_targets WHERE alert_id = ?').all(id) as {
          cluster_id: string
        }[]
      ).map((r) => r.cluster_id)
    },
    async counts(id) {
      const rows = db
        .prepare('SELECT stage, count(*) AS n FROM alert_targets WHERE alert_id = ? GROUP BY stage')
        .all(id) as { stage: AlertStage | null; n: number }[]
      const c: AlertCounts = {
        targeted: 0,
        received: 0,
        playing: 0,
        done: 0,
        failed: 0,
        cancelled: 0,
        expired: 0,
        pending: 0,
      }
      for (const r of rows) {
        c.targeted += r.n
        if (r.stage === null) c.pending += r.n
        else c[r.stage] += r.n
      }
      return c
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
