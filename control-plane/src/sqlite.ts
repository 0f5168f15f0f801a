import { openDatabase } from './db.js'
import type { Repositories } from './repositories.js'
import { sqliteAlerts } from './sqlite-alerts.js'
import { sqliteApiTokens, sqliteAudit } from './sqlite-audit.js'
import { sqliteCapLog } from './sqlite-cap.js'
import { sqliteContent, sqliteFallbacks, sqliteMedia, sqliteSchedules } from './sqlite-content.js'
import { sqliteCredentials } from './sqlite-credentials.js'
import { sqliteDesired, sqliteIngest } from './sqlite-ingest.js'
import { sqliteLives, sqliteRelays } from './sqlite-lives.js'
import { sqliteClusters, sqliteStations, sqliteUnits } from './sqlite-org.js'
import { sqlitePresence, sqliteReports, sqliteRequested } from './sqlite-stats.js'
import { sqliteUnitImport } from './sqlite-units-import.js'
import { sqliteSessions, sqliteUsers } from './sqlite-users.js'
import { sqliteWorkflow } from './sqlite-workflow.js'

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
