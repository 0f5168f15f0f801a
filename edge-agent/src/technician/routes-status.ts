import type { FastifyInstance } from 'fastify'
import type { LogRing } from './log.js'
import type { ActivityReader, StatusReader, TechnicianConfig } from './ports.js'
import { localStatus, network } from './status.js'

/** How many plays and switchings the activity screen lists. */
const RECENT = 30

/** What the page reads: status, recent activity and logs, network settings. All behind the session. */
export async function statusRoutes(
  app: FastifyInstance,
  ports: { config: TechnicianConfig; status: StatusReader; activity: ActivityReader },
  logs?: LogRing,
): Promise<void> {
  app.get('/api/status', async () => localStatus(ports.status, ports.config))

  app.get('/api/activity', async () => ({
    actions: ports.activity.localActions(),
    plays: ports.activity.recentPlays(RECENT),
    // Contract field of the page's JSON: the amplifier switch's transitions.
    relay: ports.activity.recentAmpSwitching(RECENT),
    logs: logs?.recent(100) ?? [],
  }))

  app.get('/api/network', async () => ({ interfaces: network() }))
}
