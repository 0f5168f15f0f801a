import type { AckRecord, CommandRecord } from '../commands/model.js'
import { isTargetStage, stageAckApplier } from '../commands/sqlite-targets.js'
import { untargetedReports } from '../commands/sqlite-untargeted.js'
import type { DesiredStateRepository } from '../desired/repository.js'
import type { Db } from '../storage/db.js'
import type { EventRecord, IngestRecord, Play, TelemetryRecord } from './model.js'
import type { IngestRepository, PlayQuery } from './repository.js'

interface PlayRow {
  id: string
  cluster_id: string
  schedule_id: string | null
  title: string
  sha256: string
  level: Play['level']
  priority: number
  fallback: number
  occurrence: string | null
  status: Play['status']
  reason: string | null
  relay_on_at: string | null
  started_at: string | null
  ended_at: string | null
  relay_off_at: string | null
  duration_ms: number
  attempt: number | null
  received_at: string
}
const toPlay = (r: PlayRow): Play => ({
  id: r.id,
  clusterId: r.cluster_id,
  scheduleId: r.schedule_id,
  title: r.title,
  sha256: r.sha256,
  level: r.level,
  priority: r.priority,
  fallback: r.fallback === 1,
  occurrence: r.occurrence,
  status: r.status,
  reason: r.reason,
  relayOnAt: r.relay_on_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  relayOffAt: r.relay_off_at,
  durationMs: r.duration_ms,
  ...(r.attempt === null ? {} : { attempt: r.attempt }),
  receivedAt: r.received_at,
})

/** Which report of the same play says most: one that aired beats one cut short, beats a failure, beats a skip. */
const statusRank = (col: string) =>
  `CASE ${col} WHEN 'played' THEN 3 WHEN 'interrupted' THEN 2 WHEN 'failed' THEN 1 ELSE 0 END`

interface EventRow {
  id: string
  cluster_id: string | null
  at: string
  kind: string
  severity: EventRecord['severity']
  message: string
  data: string | null
  source: EventRecord['source']
  received_at: string
}
const toEvent = (r: EventRow): EventRecord => ({
  id: r.id,
  clusterId: r.cluster_id,
  at: r.at,
  kind: r.kind,
  severity: r.severity,
  message: r.message,
  data: r.data ? JSON.parse(r.data) : null,
  source: r.source,
  receivedAt: r.received_at,
})

const report = (
  r: { id: string; clusterId: string; receivedAt: string },
  channel: 'ack' | 'play',
  stage: string,
  at: string,
) => ({ id: r.id, clusterId: r.clusterId, receivedAt: r.receivedAt, channel, stage, at, commandId: null })

/** A heartbeat dated more than this after it arrived was sent by a box whose clock ran ahead. */
const FUTURE_TOLERANCE_MS = 60_000

export function sqliteIngest(db: Db): IngestRepository {
  // Stored once by envelope id (a re-send) and once by name (the same play reported again under a new id, after
  // the box lost its WAL or database): the report that says most about it wins, the first id stays.
  const insPlay = db.prepare(`INSERT INTO plays (id, cluster_id, schedule_id, title, sha256, level,
    priority, fallback, occurrence, status, reason, relay_on_at, started_at, ended_at, relay_off_at, duration_ms,
    attempt, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO NOTHING
    ON CONFLICT (cluster_id, schedule_id, occurrence, sha256, attempt) DO UPDATE SET title = excluded.title,
      level = excluded.level, priority = excluded.priority, status = excluded.status, reason = excluded.reason,
      relay_on_at = excluded.relay_on_at, started_at = excluded.started_at, ended_at = excluded.ended_at,
      relay_off_at = excluded.relay_off_at, duration_ms = excluded.duration_ms
    WHERE ${statusRank('excluded.status')} > ${statusRank('plays.status')}`)
  const insEvent =
    db.prepare(`INSERT OR IGNORE INTO events (id, cluster_id, at, kind, severity, message, data,
    source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const insTelemetry = db.prepare(
    'INSERT OR IGNORE INTO telemetry (id, cluster_id, at, body, received_at) VALUES (?, ?, ?, ?, ?)',
  )
  // Latest telemetry only moves forward in time, so an old re-sent heartbeat never overwrites a newer one. One
  // dated after its own arrival came from a box whose clock was ahead: it does not hold the place once that clock is
  // corrected (it would for as long as the clock was ahead).
  const updTelemetry = db.prepare(`UPDATE clusters SET latest_telemetry = ?, agent_version = ?
    WHERE id = ? AND (latest_telemetry IS NULL OR json_extract(latest_telemetry, '$.at') <= ?
      OR json_extract(latest_telemetry, '$.at') > ?)`)
  const insAck =
    db.prepare(`INSERT OR IGNORE INTO command_acks (id, command_id, cluster_id, stage, at, reason,
    received_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
  // Acks of an alert or a live relay (commandId = its ack id) also move its per-cluster stage, in the same
  // transaction.
  const stageAck = stageAckApplier(db)
  // Acks and plays from clusters a command, alert or live relay never targeted are set aside, never counted.
  const untargeted = untargetedReports(db)
  const updReported =
    db.prepare(`UPDATE clusters SET applied_version = ?, received_version = ?, agent_version = ?,
    reported = ? WHERE id = ?`)
  // Any upward message means the device is alive (presence may have been missed, or timed out earlier).
  const seen = db.prepare(
    'UPDATE clusters SET online = 1, last_seen_at = max(coalesce(last_seen_at, ?), ?) WHERE id = ?',
  )

  const write = db.transaction((records: IngestRecord[]) => {
    for (const r of records) {
      switch (r.channel) {
        case 'play': {
          const b = r.body
          const outside = untargeted.playOutside(b.scheduleId, r.clusterId)
          if (outside) {
            untargeted.flag(
              { ...report(r, 'play', b.status, b.startedAt ?? b.occurrence ?? r.receivedAt), ...outside },
              b,
            )
            break
          }
          insPlay.run(
            r.id,
            r.clusterId,
            b.scheduleId,
            b.title,
            b.sha256,
            b.level,
            b.priority,
            b.fallback ? 1 : 0,
            b.occurrence,
            b.status,
            b.reason ?? null,
            b.relayOnAt,
            b.startedAt,
            b.endedAt,
            b.relayOffAt,
            b.durationMs,
            b.attempt ?? null,
            r.receivedAt,
          )
          break
        }
        case 'event':
        case 'cp-event': {
          const b = r.body
          insEvent.run(
            r.id,
            r.clusterId,
            b.at,
            b.kind,
            b.severity,
            b.message,
            b.data ? JSON.stringify(b.data) : null,
            r.channel === 'event' ? 'device' : 'control-plane',
            r.receivedAt,
          )
          break
        }
        case 'telemetry': {
          if (
            insTelemetry.run(r.id, r.clusterId, r.body.at, JSON.stringify(r.body), r.receivedAt).changes > 0
          ) {
            const future = new Date(Date.parse(r.receivedAt) + FUTURE_TOLERANCE_MS).toISOString()
            updTelemetry.run(JSON.stringify(r.body), r.body.agentVersion, r.clusterId, r.body.at, future)
          }
          break
        }
        case 'ack': {
          const b = r.body
          const outside = untargeted.ackOutside(b.commandId, r.clusterId)
          if (outside) {
            untargeted.flag({ ...report(r, 'ack', b.stage, b.at), commandId: b.commandId, ...outside }, b)
            break
          }
          if (
            insAck.run(r.id, b.commandId, r.clusterId, b.stage, b.at, b.reason ?? null, r.receivedAt)
              .changes > 0 &&
            isTargetStage(b.stage)
          ) {
            stageAck({
              stage: b.stage,
              at: b.at,
              reason: b.reason ?? null,
              ackId: b.commandId,
              clusterId: r.clusterId,
            })
          }
          break
        }
        case 'reported': {
          const b = r.body
          const summary = {
            ...b,
            mediaReady: b.media.filter((m) => m.state === 'ready').length,
            mediaTotal: b.media.length,
          }
          updReported.run(
            b.desiredVersion,
            b.receivedVersion,
            b.agentVersion,
            JSON.stringify(summary),
            r.clusterId,
          )
          break
        }
      }
      if (r.channel !== 'cp-event') seen.run(r.receivedAt, r.receivedAt, r.clusterId)
    }
  })

  return {
    async writeBatch(records) {
      write(records)
    },
    async listPlays(q: PlayQuery) {
      const where: string[] = []
      const params: unknown[] = []
      if (q.clusterIds) {
        where.push('cluster_id IN (SELECT value FROM json_each(?))')
        params.push(JSON.stringify(q.clusterIds))
      }
      if (q.unitIds) {
        where.push(
          'cluster_id IN (SELECT id FROM clusters WHERE unit_id IN (SELECT value FROM json_each(?)))',
        )
        params.push(JSON.stringify(q.unitIds))
      }
      if (q.scheduleId !== undefined) {
        where.push('schedule_id = ?')
        params.push(q.scheduleId)
      }
      if (q.since !== undefined) {
        where.push('received_at >= ?')
        params.push(q.since)
      }
      const sql = `SELECT * FROM plays ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY received_at DESC, id LIMIT ?`
      return (db.prepare(sql).all(...params, q.limit) as PlayRow[]).map(toPlay)
    },
    async countPlays() {
      return (db.prepare('SELECT count(*) AS n FROM plays').get() as { n: number }).n
    },
    async listEvents(q) {
      const where: string[] = []
      const params: unknown[] = []
      if (q.clusterId !== undefined) {
        where.push('cluster_id = ?')
        params.push(q.clusterId)
      }
      if (q.clusterIds !== undefined) {
        where.push('cluster_id IN (SELECT value FROM json_each(?))')
        params.push(JSON.stringify(q.clusterIds))
      }
      if (q.kind !== undefined) {
        where.push('kind = ?')
        params.push(q.kind)
      }
      const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY received_at DESC, id LIMIT ?`
      return (db.prepare(sql).all(...params, q.limit) as EventRow[]).map(toEvent)
    },
    async listTelemetry(clusterId, limit) {
      const rows = db
        .prepare('SELECT * FROM telemetry WHERE cluster_id = ? ORDER BY at DESC LIMIT ?')
        .all(clusterId, limit) as {
        id: string
        cluster_id: string
        at: string
        body: string
        received_at: string
      }[]
      return rows.map(
        (r): TelemetryRecord => ({
          id: r.id,
          clusterId: r.cluster_id,
          at: r.at,
          body: JSON.parse(r.body),
          receivedAt: r.received_at,
        }),
      )
    },
    async createCommand(c) {
      const createdAt = new Date().toISOString()
      db.prepare(
        'INSERT INTO commands (id, cluster_id, kind, deadline, created_at) VALUES (?, ?, ?, ?, ?)',
      ).run(c.id, c.clusterId, c.kind, c.deadline, createdAt)
      return { ...c, createdAt }
    },
    async getCommand(id) {
      const r = db.prepare('SELECT * FROM commands WHERE id = ?').get(id) as
        | { id: string; cluster_id: string; kind: string; deadline: string; created_at: string }
        | undefined
      return r
        ? ({
            id: r.id,
            clusterId: r.cluster_id,
            kind: r.kind,
            deadline: r.deadline,
            createdAt: r.created_at,
          } as CommandRecord)
        : null
    },
    async registerFanout(c) {
      untargeted.register(c.commandId, c.kind, c.thing, c.thingId)
    },
    async listUntargeted(thing, thingId) {
      return untargeted.list(thing, thingId)
    },
    async countUntargeted() {
      return untargeted.counts()
    },
    async listAcks(commandId) {
      const rows = db
        .prepare('SELECT * FROM command_acks WHERE command_id = ? ORDER BY at, received_at')
        .all(commandId) as {
        cluster_id: string
        stage: AckRecord['stage']
        at: string
        reason: string | null
      }[]
      return rows.map((r) => ({ clusterId: r.cluster_id, stage: r.stage, at: r.at, reason: r.reason }))
    },
  }
}

export function sqliteDesired(db: Db): DesiredStateRepository {
  const upsert = db.prepare(`INSERT INTO desired_states (cluster_id, version, hash, body, updated_at)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT(cluster_id) DO UPDATE SET version = excluded.version, hash = excluded.hash,
    body = excluded.body, updated_at = excluded.updated_at`)
  const save = db.transaction((records: Parameters<DesiredStateRepository['save']>[0]) => {
    const now = new Date().toISOString()
    for (const r of records) upsert.run(r.clusterId, r.version, r.hash, r.json ?? JSON.stringify(r.body), now)
  })
  return {
    async get(clusterId) {
      const r = db.prepare('SELECT * FROM desired_states WHERE cluster_id = ?').get(clusterId) as
        | { cluster_id: string; version: number; hash: string; body: string }
        | undefined
      return r
        ? { clusterId: r.cluster_id, version: r.version, hash: r.hash, body: JSON.parse(r.body) }
        : null
    },
    async heads() {
      const rows = db.prepare('SELECT cluster_id, version, hash FROM desired_states').all() as {
        cluster_id: string
        version: number
        hash: string
      }[]
      return new Map(rows.map((r) => [r.cluster_id, { version: r.version, hash: r.hash }]))
    },
    async versionOf(clusterId) {
      const r = db.prepare('SELECT version FROM desired_states WHERE cluster_id = ?').get(clusterId) as
        | { version: number }
        | undefined
      return r?.version ?? null
    },
    async save(records) {
      save(records)
    },
  }
}
