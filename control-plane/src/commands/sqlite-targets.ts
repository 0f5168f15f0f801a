import type { Db } from '../storage/db.js'
import type { AlertCounts, AlertStage, AlertTargetStatus } from './model.js'
import { type FanoutThing, untargetedReports } from './sqlite-untargeted.js'

/**
 * Per-target acknowledgement tables (alert_targets, live_targets): one row per (thing, cluster) holding the latest
 * stage that cluster acknowledged under the thing's ack id. Alerts and live relays share this bookkeeping.
 */
export interface StageTable {
  /** What the parent is, for the record of acks from clusters it never targeted. */
  thing: FanoutThing
  /** e.g. `alert_targets`. */
  table: string
  /** The column naming the parent row, e.g. `alert_id`. */
  key: string
  /** The parent table, which has `id` and `ack_id`. */
  parent: string
  /** SQL ranking a stage column: a higher rank wins; equal ranks go to the later `at`. */
  rank(col: string): string
}

export const TARGET_STAGES: readonly AlertStage[] = [
  'received',
  'playing',
  'done',
  'failed',
  'cancelled',
  'expired',
]

export function isTargetStage(stage: string): stage is AlertStage {
  return (TARGET_STAGES as readonly string[]).includes(stage)
}

/** Alerts: received < playing < every final stage (done, failed, cancelled, expired). */
export const ALERT_TARGETS: StageTable = {
  thing: 'alert',
  table: 'alert_targets',
  key: 'alert_id',
  parent: 'alerts',
  rank: (col) => `CASE ${col} WHEN 'received' THEN 1 WHEN 'playing' THEN 2 ELSE 3 END`,
}

/**
 * Live relays: a `failed` relay is retried by the agent, so failed and playing share a rank (the later wins);
 * done, cancelled and expired are final.
 */
export const LIVE_TARGETS: StageTable = {
  thing: 'live',
  table: 'live_targets',
  key: 'live_id',
  parent: 'lives',
  rank: (col) => `CASE ${col} WHEN 'received' THEN 1 WHEN 'playing' THEN 2 WHEN 'failed' THEN 2 ELSE 3 END`,
}

/**
 * Keeps the latest stage per (thing, cluster): a later stage wins over an earlier one (acks leave a device's outbox
 * in order, but re-sends may overtake); within a rank the later `at` wins. Acks of an older revision carry an older
 * ack id and no longer match.
 */
export function stageAckSql(t: StageTable): string {
  return `UPDATE ${t.table} SET stage = @stage, at = @at, reason = @reason
  WHERE ${t.key} = (SELECT id FROM ${t.parent} WHERE ack_id = @ackId) AND cluster_id = @clusterId
  AND (stage IS NULL OR ${t.rank('@stage')} > ${t.rank('stage')} OR (${t.rank('@stage')} = ${t.rank('stage')} AND @at >= at))`
}

export interface StageAck {
  stage: AlertStage
  at: string
  reason: string | null
  ackId: string
  clusterId: string
}

/** Applies one stored ack to every per-target table (run inside the ingest transaction). */
export function stageAckApplier(db: Db, tables: StageTable[] = [ALERT_TARGETS, LIVE_TARGETS]) {
  const stmts = tables.map((t) => db.prepare(stageAckSql(t)))
  return (a: StageAck) => {
    for (const s of stmts) s.run(a)
  }
}

export const emptyCounts = (): AlertCounts => ({
  targeted: 0,
  received: 0,
  playing: 0,
  done: 0,
  failed: 0,
  cancelled: 0,
  expired: 0,
  pending: 0,
})

/** Statements over one per-target table. Call `insert`, `reset` and `catchUp` inside a transaction. */
export function stageTargets(db: Db, t: StageTable) {
  const ack = db.prepare(stageAckSql(t))
  const ins = db.prepare(`INSERT OR IGNORE INTO ${t.table} (${t.key}, cluster_id) VALUES (?, ?)`)
  const reset = db.prepare(`UPDATE ${t.table} SET stage = NULL, at = NULL, reason = NULL WHERE ${t.key} = ?`)
  const earlyAcks = db.prepare(
    'SELECT id, cluster_id, stage, at, reason, received_at FROM command_acks WHERE command_id = ? ORDER BY at',
  )
  const targeted = db.prepare(`SELECT 1 FROM ${t.table} WHERE ${t.key} = ? AND cluster_id = ?`)
  const dropAck = db.prepare('DELETE FROM command_acks WHERE id = ?')
  const untargeted = untargetedReports(db)
  const rows = db.prepare(
    `SELECT cluster_id, stage, at, reason FROM ${t.table} WHERE ${t.key} = ? ORDER BY cluster_id`,
  )
  const ids = db.prepare(`SELECT cluster_id FROM ${t.table} WHERE ${t.key} = ?`)
  const grouped = db.prepare(`SELECT stage, count(*) AS n FROM ${t.table} WHERE ${t.key} = ? GROUP BY stage`)
  return {
    insert(parentId: string, clusterIds: string[]): void {
      for (const c of clusterIds) ins.run(parentId, c)
    },
    reset(parentId: string): void {
      reset.run(parentId)
    },
    /**
     * Publishing comes before bookkeeping, so a fast device's acks may already be stored: fold in those of targets,
     * and set aside (untargeted_reports) those of clusters this thing never targeted. From now on the ack id is
     * registered, so later acks are sorted as they arrive (uplink/sqlite.ts).
     */
    catchUp(parentId: string, ackId: string, kind: string): void {
      untargeted.register(ackId, kind, t.thing, parentId)
      const acks = earlyAcks.all(ackId) as {
        id: string
        cluster_id: string
        stage: string
        at: string
        reason: string | null
        received_at: string
      }[]
      for (const r of acks) {
        if (!targeted.get(parentId, r.cluster_id)) {
          const body = {
            commandId: ackId,
            stage: r.stage,
            at: r.at,
            ...(r.reason ? { reason: r.reason } : {}),
          }
          untargeted.flag(
            {
              id: r.id,
              clusterId: r.cluster_id,
              channel: 'ack',
              thing: t.thing,
              thingId: parentId,
              commandId: ackId,
              stage: r.stage,
              at: r.at,
              receivedAt: r.received_at,
            },
            body,
          )
          dropAck.run(r.id)
        } else if (isTargetStage(r.stage))
          ack.run({ stage: r.stage, at: r.at, reason: r.reason, ackId, clusterId: r.cluster_id })
      }
    },
    targets(parentId: string): AlertTargetStatus[] {
      return (
        rows.all(parentId) as {
          cluster_id: string
          stage: AlertStage | null
          at: string | null
          reason: string | null
        }[]
      ).map((r) => ({ clusterId: r.cluster_id, stage: r.stage, at: r.at, reason: r.reason }))
    },
    targetIds(parentId: string): string[] {
      return (ids.all(parentId) as { cluster_id: string }[]).map((r) => r.cluster_id)
    },
    counts(parentId: string): AlertCounts {
      const c = emptyCounts()
      for (const r of grouped.all(parentId) as { stage: AlertStage | null; n: number }[]) {
        c.targeted += r.n
        if (r.stage === null) c.pending += r.n
        else c[r.stage] += r.n
      }
      return c
    },
  }
}

/**
 * The reads and state changes every targeted thing (alert, live relay) has: by id, by state in `order`, its
 * per-target stages, and the active ones with their clusters for the desired-state builder.
 */
export function targetedRecords<R, T extends { id: string }, S extends string>(
  db: Db,
  o: { stages: StageTable; order: string; map(row: R): T },
) {
  const t = o.stages
  const targets = stageTargets(db, t)
  const all = (sql: string, ...params: unknown[]) => (db.prepare(sql).all(...params) as R[]).map(o.map)
  return {
    stages: targets,
    async setState(id: string, state: S): Promise<void> {
      db.prepare(`UPDATE ${t.parent} SET state = ?, updated_at = ? WHERE id = ?`).run(
        state,
        new Date().toISOString(),
        id,
      )
    },
    async get(id: string): Promise<T | null> {
      const r = db.prepare(`SELECT * FROM ${t.parent} WHERE id = ?`).get(id) as R | undefined
      return r ? o.map(r) : null
    },
    async list(opts: { state?: S; limit?: number } = {}): Promise<T[]> {
      const limit = opts.limit ?? 1000
      return opts.state
        ? all(`SELECT * FROM ${t.parent} WHERE state = ? ${o.order} LIMIT ?`, opts.state, limit)
        : all(`SELECT * FROM ${t.parent} ${o.order} LIMIT ?`, limit)
    },
    async targets(id: string): Promise<AlertTargetStatus[]> {
      return targets.targets(id)
    },
    async targetIds(id: string): Promise<string[]> {
      return targets.targetIds(id)
    },
    async counts(id: string): Promise<AlertCounts> {
      return targets.counts(id)
    },
    /** Active records with the clusters they target. */
    async active(): Promise<{ record: T; clusterIds: string[] }[]> {
      const records = all(`SELECT * FROM ${t.parent} WHERE state = 'active' ${o.order}`)
      const byId = new Map<string, string[]>(records.map((r) => [r.id, []]))
      const rows = db
        .prepare(`SELECT t.${t.key} AS id, t.cluster_id FROM ${t.table} t JOIN ${t.parent} p ON p.id = t.${t.key}
          WHERE p.state = 'active'`)
        .all() as { id: string; cluster_id: string }[]
      for (const r of rows) byId.get(r.id)?.push(r.cluster_id)
      return records.map((record) => ({ record, clusterIds: byId.get(record.id) ?? [] }))
    },
  }
}
