import { sqliteSessions, sqliteUsers } from './access/sqlite.js'
import { sqliteCapLog } from './alerts/cap/sqlite.js'
import { sqliteAlerts } from './alerts/sqlite.js'
import { sqliteApiTokens, sqliteAudit } from './audit/sqlite.js'
import { sqliteContent } from './bulletins/sqlite-content.js'
import { sqliteWorkflow } from './bulletins/sqlite-workflow.js'
import { sqliteCredentials } from './devices/sqlite.js'
import { sqliteMedia } from './media/sqlite.js'
import { sqliteClusters, sqliteStations, sqliteUnits } from './org/sqlite.js'
import { sqliteUnitImport } from './org/sqlite-units-import.js'
import { sqliteLives, sqliteRelays } from './relays/sqlite.js'
import { sqlitePresence, sqliteReports, sqliteRequested } from './reports/sqlite-stats.js'
import type { Repositories } from './repositories.js'
import { sqliteFallbacks, sqliteSchedules } from './schedules/sqlite.js'
import { openDatabase } from './storage/db.js'
import type { PreMigrationOptions } from './storage/pre-migration.js'
import { translatingSqliteErrors as t } from './storage/sqlite-errors.js'
import { sqliteDesired, sqliteIngest } from './uplink/sqlite.js'

/**
 * The SQLite implementation of every repository, over one database file; constraint failures come out as
 * LoaError (storage/sqlite-errors.ts).
 */
export function openSqliteRepositories(file: string, opts: PreMigrationOptions = {}): Repositories {
  const db = openDatabase(file, opts)
  return {
    alerts: t(sqliteAlerts(db)),
    capLog: t(sqliteCapLog(db)),
    lives: t(sqliteLives(db)),
    relays: t(sqliteRelays(db)),
    units: t(sqliteUnits(db)),
    stations: t(sqliteStations(db)),
    clusters: t(sqliteClusters(db)),
    media: t(sqliteMedia(db)),
    content: t(sqliteContent(db)),
    schedules: t(sqliteSchedules(db)),
    fallbacks: t(sqliteFallbacks(db)),
    ingest: t(sqliteIngest(db)),
    desired: t(sqliteDesired(db)),
    users: t(sqliteUsers(db)),
    sessions: t(sqliteSessions(db)),
    apiTokens: t(sqliteApiTokens(db)),
    audit: t(sqliteAudit(db)),
    workflow: t(sqliteWorkflow(db)),
    presence: t(sqlitePresence(db)),
    reports: t(sqliteReports(db)),
    requested: t(sqliteRequested(db)),
    credentials: t(sqliteCredentials(db)),
    unitImport: t(sqliteUnitImport(db)),
    async ping() {
      db.prepare('SELECT 1').get()
    },
    async close() {
      if (db.open) db.close()
    },
  }
}
