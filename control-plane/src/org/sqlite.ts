import type { Db } from '../storage/db.js'
import type { Cluster, ClusterInput, Station, Unit } from './model.js'
import type { ClusterFilter, ClusterRepository, StationRepository, UnitRepository } from './repository.js'

export interface UnitRow {
  id: string
  parent_id: string | null
  name: string
  kind: string
  code: string | null
  created_at: string
}
export const toUnit = (r: UnitRow): Unit => ({
  id: r.id,
  parentId: r.parent_id,
  name: r.name,
  kind: r.kind,
  code: r.code,
  createdAt: r.created_at,
})

export function sqliteUnits(db: Db): UnitRepository {
  const insert = db.prepare(
    'INSERT INTO units (id, parent_id, name, kind, code, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const byId = db.prepare('SELECT * FROM units WHERE id = ?')
  const all = db.prepare('SELECT * FROM units ORDER BY id')
  const subtree = db.prepare(`WITH RECURSIVE t(id) AS (
      SELECT id FROM units WHERE id = ?
      UNION SELECT u.id FROM units u JOIN t ON u.parent_id = t.id)
    SELECT id FROM t`)
  return {
    async create(u) {
      const createdAt = new Date().toISOString()
      insert.run(u.id, u.parentId, u.name, u.kind, u.code, createdAt)
      return { ...u, createdAt }
    },
    async get(id) {
      const r = byId.get(id) as UnitRow | undefined
      return r ? toUnit(r) : null
    },
    async list() {
      return (all.all() as UnitRow[]).map(toUnit)
    },
    async subtreeIds(id) {
      return (subtree.all(id) as { id: string }[]).map((r) => r.id)
    },
  }
}

interface StationRow {
  id: string
  name: string
  unit_id: string
  created_at: string
}
const toStation = (r: StationRow): Station => ({
  id: r.id,
  name: r.name,
  unitId: r.unit_id,
  createdAt: r.created_at,
})

export function sqliteStations(db: Db): StationRepository {
  const insert = db.prepare('INSERT INTO stations (id, name, unit_id, created_at) VALUES (?, ?, ?, ?)')
  return {
    async create(s) {
      const createdAt = new Date().toISOString()
      insert.run(s.id, s.name, s.unitId, createdAt)
      return { ...s, createdAt }
    },
    async list() {
      return (db.prepare('SELECT * FROM stations ORDER BY id').all() as StationRow[]).map(toStation)
    },
    async get(id) {
      const r = db.prepare('SELECT * FROM stations WHERE id = ?').get(id) as StationRow | undefined
      return r ? toStation(r) : null
    },
  }
}

interface ClusterRow {
  id: string
  name: string
  unit_id: string
  station_id: string | null
  zones: string
  tags: string
  lat: number | null
  lon: number | null
  volume: number | null
  created_at: string
  updated_at: string
  online: number
  last_seen_at: string | null
  agent_version: string | null
  applied_version: number | null
  received_version: number | null
  reported: string | null
  latest_telemetry: string | null
  desired_version: number | null
}

function toInput(r: ClusterRow): ClusterInput {
  return {
    id: r.id,
    name: r.name,
    unitId: r.unit_id,
    stationId: r.station_id,
    zones: JSON.parse(r.zones),
    tags: JSON.parse(r.tags),
    lat: r.lat,
    lon: r.lon,
    volume: r.volume,
  }
}

function toCluster(r: ClusterRow): Cluster {
  const tel = r.latest_telemetry ? JSON.parse(r.latest_telemetry) : null
  const rep = r.reported ? JSON.parse(r.reported) : null
  return {
    ...toInput(r),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    online: r.online === 1,
    lastSeenAt: r.last_seen_at,
    agentVersion: r.agent_version,
    desiredVersion: r.desired_version,
    appliedVersion: r.applied_version,
    receivedVersion: r.received_version,
    nowPlaying: tel?.nowPlaying ?? null,
    relayOn: tel?.relayOn ?? null,
    diskFreeBytes: tel?.diskFreeBytes ?? rep?.diskFreeBytes ?? null,
    cacheBytes: rep?.cacheBytes ?? null,
    mediaReady: rep ? rep.mediaReady : null,
    mediaTotal: rep ? rep.mediaTotal : null,
  }
}

const SELECT_CLUSTER = `SELECT c.*, d.version AS desired_version FROM clusters c
  LEFT JOIN desired_states d ON d.cluster_id = c.id`

export function sqliteClusters(db: Db): ClusterRepository {
  const insert = db.prepare(`INSERT INTO clusters
    (id, name, unit_id, station_id, zones, tags, lat, lon, volume, created_at, updated_at)
    VALUES (@id, @name, @unitId, @stationId, @zones, @tags, @lat, @lon, @volume, @now, @now)`)
  const byId = db.prepare(`${SELECT_CLUSTER} WHERE c.id = ?`)
  const setOnline = db.prepare(
    'UPDATE clusters SET online = ?, last_seen_at = max(coalesce(last_seen_at, ?), ?) WHERE id = ?',
  )
  const get = (id: string): Cluster | null => {
    const r = byId.get(id) as ClusterRow | undefined
    return r ? toCluster(r) : null
  }
  return {
    async create(c) {
      const now = new Date().toISOString()
      insert.run({ ...c, zones: JSON.stringify(c.zones), tags: JSON.stringify(c.tags), now })
      return get(c.id) as Cluster
    },
    async update(id, patch) {
      const cur = get(id)
      if (!cur) return null
      const next: ClusterInput = { ...toInputFromCluster(cur), ...patch, id }
      db.prepare(`UPDATE clusters SET name = @name, unit_id = @unitId, station_id = @stationId,
        zones = @zones, tags = @tags, lat = @lat, lon = @lon, volume = @volume, updated_at = @now WHERE id = @id`).run(
        {
          ...next,
          zones: JSON.stringify(next.zones),
          tags: JSON.stringify(next.tags),
          now: new Date().toISOString(),
        },
      )
      return get(id)
    },
    async get(id) {
      return get(id)
    },
    async list(filter: ClusterFilter = {}) {
      const where: string[] = []
      const params: unknown[] = []
      if (filter.unitIds) {
        if (filter.unitIds.length === 0) return []
        where.push(`c.unit_id IN (SELECT value FROM json_each(?))`)
        params.push(JSON.stringify(filter.unitIds))
      }
      if (filter.tag !== undefined) {
        where.push('EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = ?)')
        params.push(filter.tag)
      }
      const sql = `${SELECT_CLUSTER} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.id`
      return (db.prepare(sql).all(...params) as ClusterRow[]).map(toCluster)
    },
    async listInputs(ids) {
      if (ids === undefined)
        return (db.prepare('SELECT * FROM clusters ORDER BY id').all() as ClusterRow[]).map(toInput)
      const rows = db
        .prepare('SELECT * FROM clusters WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id')
        .all(JSON.stringify(ids)) as ClusterRow[]
      return rows.map(toInput)
    },
    async exists(ids) {
      if (ids.length === 0) return new Set()
      const rows = db
        .prepare('SELECT id FROM clusters WHERE id IN (SELECT value FROM json_each(?))')
        .all(JSON.stringify(ids)) as { id: string }[]
      return new Set(rows.map((r) => r.id))
    },
    async setOnline(id, online, at) {
      return setOnline.run(online ? 1 : 0, at, at, id).changes > 0
    },
    async markStaleOffline(before) {
      const rows = db
        .prepare(
          `UPDATE clusters SET online = 0 WHERE online = 1 AND (last_seen_at IS NULL OR last_seen_at < ?) RETURNING id`,
        )
        .all(before) as { id: string }[]
      return rows.map((r) => r.id)
    },
    async counts() {
      const r = db
        .prepare('SELECT count(*) AS total, coalesce(sum(online), 0) AS online FROM clusters')
        .get() as {
        total: number
        online: number
      }
      return r
    },
  }
}

function toInputFromCluster(c: Cluster): ClusterInput {
  return {
    id: c.id,
    name: c.name,
    unitId: c.unitId,
    stationId: c.stationId,
    zones: c.zones,
    tags: c.tags,
    lat: c.lat,
    lon: c.lon,
    volume: c.volume,
  }
}
