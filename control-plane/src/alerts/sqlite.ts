import { ALERT_TARGETS, targetedRecords } from '../commands/sqlite-targets.js'
import type { Db } from '../storage/db.js'
import type { Alert, AlertState } from './model.js'
import type { AlertRepository } from './repository.js'

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
  const records = targetedRecords<AlertRow, Alert, AlertState>(db, {
    stages: ALERT_TARGETS,
    order: 'ORDER BY priority DESC, created_at, id',
    map: toAlert,
  })
  const targets = records.stages
  const params = (a: Alert) => ({
    ...a,
    items: JSON.stringify(a.items),
    targets: JSON.stringify(a.targets),
    audible: a.audible ? 1 : 0,
  })
  const create = db.transaction((a: Alert, clusterIds: string[]) => {
    ins.run(params(a))
    targets.insert(a.id, clusterIds)
    targets.catchUp(a.id, a.ackId, 'alert')
  })
  const revise = db.transaction((a: Alert) => {
    upd.run(params(a))
    targets.reset(a.id)
    targets.catchUp(a.id, a.ackId, 'alert')
  })
  return {
    async create(alert, clusterIds) {
      create(alert, clusterIds)
    },
    async revise(alert) {
      revise(alert)
    },
    setState: records.setState,
    get: records.get,
    list: records.list,
    targets: records.targets,
    targetIds: records.targetIds,
    counts: records.counts,
    async activeWithTargets() {
      return (await records.active()).map(({ record, clusterIds }) => ({ alert: record, clusterIds }))
    },
  }
}
