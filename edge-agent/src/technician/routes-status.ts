import type { FastifyInstance } from 'fastify'
import type { Agent } from '../agent.js'
import type { LogRing } from './log.js'
import { localStatus, network } from './status.js'

/** What the page reads: status, recent activity and logs, network settings. All behind the session. */
export async function statusRoutes(app: FastifyInstance, agent: Agent, logs?: LogRing): Promise<void> {
  app.get('/api/status', async () => localStatus(agent))

  app.get('/api/activity', async () => ({
    actions: agent.localPlays.recent(),
    plays: agent.db
      .prepare(
        `SELECT title, priority, status, reason, started_at AS startedAt, ended_at AS endedAt, schedule_id AS scheduleId
         FROM plays ORDER BY rowid DESC LIMIT 30`,
      )
      .all(),
    relay: agent.db.prepare('SELECT at, "on" FROM relay_log ORDER BY rowid DESC LIMIT 30').all(),
    logs: logs?.recent(100) ?? [],
  }))

  app.get('/api/network', async () => ({ interfaces: network() }))
}
