import { sqliteSessions, sqliteUsers } from './access/sqlite.js'
import { sqliteCapLog } from './alerts/cap/sqlite.js'
import { sqliteAlerts } from './alerts/sqlite.js'
import { sqliteApiTokens, sqliteAudit } from './audit/sqlite.js'
import { sqliteContent, sqliteFallbacks, sqliteMedia, sqliteSchedules } from './bulletins/sqlite-content.js'
import { sqliteWorkflow } from './bulletins/sqlite-workflow.js'
import { sqliteCredentials } from './devices/sqlite.js'
import { sqliteClusters, sqliteStations, sqliteUnits } from './org/sqlite.js'
import { sqliteUnitImport } from './org/sqlite-units-import.js'
import { sqliteLives, sqliteRelays } from './rebroadcasts/sqlite.js'
import { sqlitePresence, sqliteReports, sqliteRequested } from './reports/sqlite-stats.js'
import type { Repositories } from './repositories.js'
import { openDatabase } from './storage/db.js'
import { sqliteDesired, sqliteIngest } from './uplink/sqlite.js'

/** The SQLite implementation of every repository, over one database file. */
export function openSqliteRepositories(file: string): Repositories {
  const db = openDatabase(file)
  return {
    alerts: sqliteAlerts(db),
    capLog: sqliteCapLog(db),
    lives: sqliteLives(db),
    relays: sqliteRelays(db),
    units: sqliteUnits(db),
    stations: sqliteStations(db),
    clusters: sqliteClusters(db),
    media: sqliteMedia(db),
    content: sqliteContent(db),
    schedules: sqliteSchedules(db),
    fallbacks: sqliteFallbacks(db),
    ingest: sqliteIngest(db),
    desired: sqliteDesired(db),
    users: sqliteUsers(db),
    sessions: sqliteSessions(db),
    apiTokens: sqliteApiTokens(db),
    audit: sqliteAudit(db),
    workflow: sqliteWorkflow(db),
    presence: sqlitePresence(db),
    reports: sqliteReports(db),
    requested: sqliteRequested(db),
    credentials: sqliteCredentials(db),
    unitImport: sqliteUnitImport(db),
    async ping() {
      db.prepare('SELECT 1').get()
    },
    async close() {
      if (db.open) db.close()
    },
  }
}
