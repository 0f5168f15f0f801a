import type { AuthRepositories } from './access/repository.js'
import type { CapLogRepository } from './alerts/cap/log.js'
import type { DeviceCredentialRepository } from './devices/credentials.js'
import type {
  AckRecord,
  Alert,
  AlertCounts,
  AlertState,
  AlertTargetStatus,
  Bulletin,
  Cluster,
  ClusterInput,
  CommandRecord,
  DesiredStateRecord,
  EventRecord,
  Fallback,
  IngestRecord,
  Live,
  LiveState,
  Media,
  Play,
  Playlist,
  Relay,
  Schedule,
  Station,
  TelemetryRecord,
  Unit,
  UntargetedReport,
  UntargetedThing,
} from './domain.js'
import type { ImportPlan, ImportProblem, ImportRow } from './org/units-import.js'
import type {
  PresenceRepository,
  ReportRepository,
  RequestedLedgerRepository,
  WorkflowRepository,
} from './repositories-console.js'

/**
 * Storage behind async interfaces: call sites never see SQLite, so a PostgreSQL implementation can be dropped in
 * (the national deployment needs one) without touching routes or services.
 */

export interface UnitRepository {
  create(unit: Omit<Unit, 'createdAt'>): Promise<Unit>
  get(id: string): Promise<Unit | null>
  list(): Promise<Unit[]>
  /** The unit and all its descendants. */
  subtreeIds(id: string): Promise<string[]>
}

export interface StationRepository {
  create(station: Omit<Station, 'createdAt'>): Promise<Station>
  list(): Promise<Station[]>
  get(id: string): Promise<Station | null>
}

export interface ClusterFilter {
  unitIds?: string[]
  tag?: string
}

export interface ClusterRepository {
  create(input: ClusterInput): Promise<Cluster>
  update(id: string, patch: Partial<Omit<ClusterInput, 'id'>>): Promise<Cluster | null>
  get(id: string): Promise<Cluster | null>
  list(filter?: ClusterFilter): Promise<Cluster[]>
  /** Configuration of all clusters (or of `ids`), for batch recomputation. */
  listInputs(ids?: string[]): Promise<ClusterInput[]>
  exists(ids: string[]): Promise<Set<string>>
  setOnline(id: string, online: boolean, at: string): Promise<boolean>
  /** Marks online devices not heard since `before` offline and returns their ids. */
  markStaleOffline(before: string): Promise<string[]>
  counts(): Promise<{ total: number; online: number }>
}

export interface MediaRepository {
  insert(media: Media, sourceSha256: string): Promise<{ media: Media; existed: boolean }>
  get(sha256: string): Promise<Media | null>
  getBySource(sourceSha256: string): Promise<Media | null>
  list(): Promise<Media[]>
  /** Records that a unit (null: the whole province) brought this media in (uploaded or spoke it). */
  addOwner(sha256: string, unitId: string | null): Promise<void>
  /** The media owned by the province or by one of these units. */
  ownedWithin(unitIds: readonly string[]): Promise<Set<string>>
}

export interface ContentRepository {
  createBulletin(b: Omit<Bulletin, 'createdAt'>): Promise<Bulletin>
  /** draft → approved; false if it was not a draft. */
  approveBulletin(id: string, by: string, at: string): Promise<boolean>
  /** approved → draft again: an approval refused after the fact (its schedules would break a desired-state limit). */
  revokeApproval(id: string): Promise<void>
  /** Replaces a playlist's items (reordering a programme). */
  setPlaylistItems(id: string, bulletinIds: string[]): Promise<void>
  getBulletin(id: string): Promise<Bulletin | null>
  listBulletins(): Promise<Bulletin[]>
  createPlaylist(p: Omit<Playlist, 'createdAt'>): Promise<Playlist>
  getPlaylist(id: string): Promise<Playlist | null>
  listPlaylists(): Promise<Playlist[]>
}

export interface ScheduleRepository {
  create(s: Omit<Schedule, 'createdAt'>): Promise<Schedule>
  get(id: string): Promise<Schedule | null>
  list(opts?: { enabledOnly?: boolean }): Promise<Schedule[]>
  delete(id: string): Promise<boolean>
  update(
    id: string,
    patch: Partial<Pick<Schedule, 'title' | 'recurrence' | 'targets' | 'priority' | 'volume' | 'enabled'>>,
  ): Promise<Schedule | null>
}

export interface FallbackRepository {
  put(f: Omit<Fallback, 'updatedAt'>): Promise<Fallback>
  get(unitId: string): Promise<Fallback | null>
  delete(unitId: string): Promise<boolean>
  list(): Promise<Fallback[]>
}

export interface PlayQuery {
  clusterIds?: string[]
  unitIds?: string[]
  scheduleId?: string
  since?: string
  limit: number
}

export interface IngestRepository {
  /** Stores a batch in one transaction; duplicates (same envelope id) are ignored. */
  writeBatch(records: IngestRecord[]): Promise<void>
  listPlays(q: PlayQuery): Promise<Play[]>
  countPlays(): Promise<number>
  listEvents(q: {
    clusterId?: string
    clusterIds?: string[]
    kind?: string
    limit: number
  }): Promise<EventRecord[]>
  listTelemetry(clusterId: string, limit: number): Promise<TelemetryRecord[]>
  createCommand(c: Omit<CommandRecord, 'createdAt'>): Promise<CommandRecord>
  getCommand(id: string): Promise<CommandRecord | null>
  listAcks(commandId: string): Promise<AckRecord[]>
  /** Remembers which alert or live relay a command sent to many clusters (a cancel, a stop) is about. */
  registerFanout(c: {
    commandId: string
    kind: string
    thing: 'alert' | 'live'
    thingId: string
  }): Promise<void>
  /** Acks and plays from clusters the command, alert or live relay never targeted (never counted). */
  listUntargeted(thing: UntargetedThing, thingId: string): Promise<UntargetedReport[]>
  countUntargeted(): Promise<{ channel: string; thing: string; n: number }[]>
}

export interface DesiredStateRepository {
  get(clusterId: string): Promise<DesiredStateRecord | null>
  /** Current version and hash of every device (cheap: no bodies). */
  heads(): Promise<Map<string, { version: number; hash: string }>>
  /** Current version of one device (cheap: no body). */
  versionOf(clusterId: string): Promise<number | null>
  save(records: DesiredStateRecord[]): Promise<void>
}

export interface AlertRepository {
  /** Stores a new alert and its targeted clusters, folding in any acks that already arrived for its ack id. */
  create(alert: Alert, clusterIds: string[]): Promise<void>
  /** A new revision: content, ack id and expiry change, every target goes back to pending. */
  revise(alert: Alert): Promise<void>
  setState(id: string, state: AlertState): Promise<void>
  get(id: string): Promise<Alert | null>
  /** Newest first is useless in an emergency: ordered by band (highest first), then by creation time. */
  list(opts?: { state?: AlertState; limit?: number }): Promise<Alert[]>
  targets(id: string): Promise<AlertTargetStatus[]>
  targetIds(id: string): Promise<string[]>
  counts(id: string): Promise<AlertCounts>
  /** Active alerts with the clusters they target, for the desired-state builder. */
  activeWithTargets(): Promise<{ alert: Alert; clusterIds: string[] }[]>
}

export interface LiveRepository {
  /** Stores a new live relay and its targeted clusters, folding in any acks that already arrived for its ack id. */
  create(live: Live, clusterIds: string[]): Promise<void>
  setState(id: string, state: LiveState): Promise<void>
  get(id: string): Promise<Live | null>
  /** Highest band first, then by start time. */
  list(opts?: { state?: LiveState; limit?: number }): Promise<Live[]>
  targets(id: string): Promise<AlertTargetStatus[]>
  targetIds(id: string): Promise<string[]>
  counts(id: string): Promise<AlertCounts>
  /** Active live relays with the clusters they target, for the desired-state builder. */
  activeWithTargets(): Promise<{ live: Live; clusterIds: string[] }[]>
}

export interface RelayRepository {
  create(r: Omit<Relay, 'createdAt'>): Promise<Relay>
  get(id: string): Promise<Relay | null>
  list(): Promise<Relay[]>
  delete(id: string): Promise<boolean>
}

export interface Repositories extends AuthRepositories {
  alerts: AlertRepository
  /** What CAP ingest received and what Cancels named (alerts/cap/log.ts). */
  capLog: CapLogRepository
  lives: LiveRepository
  relays: RelayRepository
  units: UnitRepository
  stations: StationRepository
  clusters: ClusterRepository
  media: MediaRepository
  content: ContentRepository
  schedules: ScheduleRepository
  fallbacks: FallbackRepository
  ingest: IngestRepository
  desired: DesiredStateRepository
  /** Inbox, programmes and unit settings of the bulletin workflow. */
  workflow: WorkflowRepository
  presence: PresenceRepository
  reports: ReportRepository
  /** What each cluster was asked to play, per day (reports/requested-ledger.ts). */
  requested: RequestedLedgerRepository
  /** Device MQTT credentials (devices/credentials.ts). */
  credentials: DeviceCredentialRepository
  unitImport: UnitImportRepository
  /** Liveness probe for /healthz. */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface UnitImportRepository {
  /** Plans the import against the stored units and, unless a dry run or there are problems, applies it atomically. */
  importUnits(
    rows: ImportRow[],
    dryRun: boolean,
  ): Promise<{ plan: ImportPlan } | { problems: ImportProblem[] }>
}
