import { LIVE_TARGETS, targetedRecords } from '../commands/sqlite-targets.js'
import type { Db } from '../storage/db.js'
import type { Live, LiveState, Relay } from './model.js'
import type { LiveRepository, RelayRepository } from './repository.js'

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
  const records = targetedRecords<LiveRow, Live, LiveState>(db, {
    stages: LIVE_TARGETS,
    order: 'ORDER BY priority DESC, starts_at, id',
    map: toLive,
  })
  const targets = records.stages
  const create = db.transaction((l: Live, clusterIds: string[]) => {
    ins.run({ ...l, targets: JSON.stringify(l.targets) })
    targets.insert(l.id, clusterIds)
    targets.catchUp(l.id, l.ackId, 'live-start')
  })
  return {
    async create(live, clusterIds) {
      create(live, clusterIds)
    },
    setState: records.setState,
    get: records.get,
    list: records.list,
    targets: records.targets,
    targetIds: records.targetIds,
    counts: records.counts,
    async activeWithTargets() {
      return (await records.active()).map(({ record, clusterIds }) => ({ live: record, clusterIds }))
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
