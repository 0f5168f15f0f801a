import type { AuthRepositories } from './access/repository.js'
import type { CapLogRepository } from './alerts/cap/log.js'
import type { AlertRepository } from './alerts/repository.js'
import type { ContentRepository, WorkflowRepository } from './bulletins/repository.js'
import type { DesiredStateRepository } from './desired/repository.js'
import type { DeviceCredentialRepository } from './devices/credentials.js'
import type { MediaRepository } from './media/repository.js'
import type {
  ClusterRepository,
  StationRepository,
  UnitImportRepository,
  UnitRepository,
} from './org/repository.js'
import type { LiveRepository, RelayRepository } from './relays/repository.js'
import type { PresenceRepository, ReportRepository, RequestedLedgerRepository } from './reports/repository.js'
import type { FallbackRepository, ScheduleRepository } from './schedules/repository.js'
import type { IngestRepository } from './uplink/repository.js'

/**
 * Storage behind async interfaces: call sites never see SQLite, so a PostgreSQL implementation can be dropped in
 * (the national deployment needs one) without touching routes or services. Each domain folder owns its records
 * (`model.ts`) and its repository interfaces (`repository.ts`); this is only the one object holding them all.
 */

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
