import type { Db } from './db.js'
import type { Live, Relay } from './domain.js'
import type { LiveRepository, RelayRepository } from './repositories.js'
import { LIVE_TARGETS, stageTargets } from './sqlite-targets.js'

interface LiveRow {
  id: string
  revision: number
  ack_id: string
  title: string
  source_url: string
  priority: number
  starts_at: string
  ends_at: string | null
  volume: number | null
  state: Live['state']
  targets: string
  created_at: string
  updated_at: string
}
const toLive = (r: LiveRow): Live => ({
  id: r.id,
  revision: r.revision,
  ackId: r.ack_id,
  title: r.title,
  sourceUrl: r.source_url,
  priority: r.priority,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  volume: r.volume,
  state: r.state,
  targets: JSON.parse(r.targets),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export function sqliteLives(db: Db): LiveRepository {
  const ins =
    db.prepare(`INSERT INTO lives (id, revision, ack_id, title, source_url, priority, starts_at, ends_at,
    volume, state, targets, created_at, updated_at) VALUES (@id, @revision, @ackId, @title, @sourceUrl, @priority,
    @startsAt, @endsAt, @volume, @state, @targets, @createdAt, @updatedAt)`)
  const targets = stageTargets(db, LIVE_TARGETS)
  const create = db.transaction((l: Live, clusterIds: string[]) => {
    ins.run({ ...l, targets: JSON.stringify(l.targets) })
    targets.insert(l.id, clusterIds)
    targets.catchUp(l.ackId)
  })
  const ORDER = 'ORDER BY priority DESC, starts_at, id'
  return {
    async create(live, clusterIds) {
      create(live, clusterIds)
    },
    async setState(id, state) {
      db.prepare('UPDATE lives SET state = ?, updated_at = ? WHERE id = ?').run(
        state,
        new Date().toISOString(),
        id,
      )
    },
    async get(id) {
      const r = db.prepare('SELECT * FROM lives WHERE id = ?').get(id) as LiveRow | undefined
      return r ? toLive(r) : null
    },
    async list(opts = {}) {
      const rows = (
        opts.state
          ? db
              .prepare(`SELECT * FROM lives WHERE state = ? ${ORDER} LIMIT ?`)
              .all(opts.state, opts.limit ?? 1000)
          : db.prepare(`SELECT * FROM lives ${ORDER} LIMIT ?`).all(opts.limit ?? 1000)
      ) as LiveRow[]
      return rows.map(toLive)
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
      const lives = (
        db.prepare(`SELECT * FROM lives WHERE state = 'active' ${ORDER}`).all() as LiveRow[]
      ).map(toLive)
      const byLive = new Map<string, string[]>(lives.map((l) => [l.id, []]))
      const rows = db
        .prepare(`SELECT t.live_id, t.cluster_id FROM live_targets t JOIN lives l ON l.id = t.live_id
          WHERE l.state = 'active'`)
        .all() as { live_id: string; cluster_id: string }[]
      for (const r of rows) byLive.get(r.live_id)?.push(r.cluster_id)
      return lives.map((live) => ({ live, clusterIds: byLive.get(live.id) ?? [] }))
    },
  }
}

interface RelayRow {
  id: string
  title: string
  source_url: string
  priority: number
  recurrence: string
  duration_s: number
  volume: number | null
  targets: string
  created_at: string
}
const toRelay = (r: RelayRow): Relay => ({
  id: r.id,
  title: r.title,
  sourceUrl: r.source_url,
  priority: r.priority,
  recurrence: JSON.parse(r.recurrence),
  durationS: r.duration_s,
  volume: r.volume,
  targets: JSON.parse(r.targets),
  createdAt: r.created_at,
})

export function sqliteRelays(db: Db): RelayRepository {
  return {
    async create(r) {
      const relay: Relay = { ...r, createdAt: new Date().toISOString() }
      db.prepare(`INSERT INTO relays (id, title, source_url, priority, recurrence, duration_s, volume, targets,
        created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        relay.id,
        relay.title,
        relay.sourceUrl,
        relay.priority,
        JSON.stringify(relay.recurrence),
        relay.durationS,
        relay.volume,
        JSON.stringify(relay.targets),
        relay.createdAt,
      )
      return relay
    },
    async get(id) {
      const r = db.prepare('SELECT * FROM relays WHERE id = ?').get(id) as RelayRow | undefined
      return r ? toRelay(r) : null
    },
    async list() {
      return (db.prepare('SELECT * FROM relays ORDER BY created_at, id').all() as RelayRow[]).map(toRelay)
    },
    async delete(id) {
      return db.prepare('DELETE FROM relays WHERE id = ?').run(id).changes > 0
    },
  }
}
