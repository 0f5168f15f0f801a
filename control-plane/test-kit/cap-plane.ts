import type { DesiredStateBody } from '@loa/shared'
import { afterAll, beforeAll } from 'vitest'
import { type CmdSpy, spyCommands } from './alerts.js'
import { type CapMessage, capXml, postCap } from './cap.js'
import { seedTree, startTestPlane, type TestPlane } from './test-helpers.js'

/** The plane's LOA_CAP_MAX_AGE_S (its LOA_CAP_MAX_FUTURE_S is 60). */
export const MAX_AGE_S = 600

interface AlertView {
  alert: { id: string; state: string; revision: number; title: string; audible: boolean; startsAt: string }
}

/**
 * Call at the top of a CAP test file: a real control plane (SQLite, broker) with the seeded tree and a spy on
 * every command published, for the file. Times are derived from the clock; identifiers are unique per file.
 */
export function useCapPlane() {
  let t: TestPlane
  let spy: CmdSpy
  const now = Date.now()
  /** `seconds` from now. */
  const s = (seconds: number) => now + seconds * 1000
  let n = 0
  const id = (what: string) => `VN-TEST-${what}-${++n}`
  const post = (m: CapMessage) => postCap(t, capXml(m))
  const alertOf = async (alertId: string | null) =>
    (await t.api<AlertView>('GET', `/api/alerts/${alertId}`)).body.alert
  const allAlerts = async () => (await t.api<{ alerts: { id: string }[] }>('GET', '/api/alerts')).body.alerts
  const desiredAlerts = async (cluster: string) =>
    ((await t.api<DesiredStateBody>('GET', `/api/clusters/${cluster}/desired-state`)).body.alerts ?? []).map(
      (a) => `${a.alertId}#${a.revision}`,
    )
  /** How many commands have been published so far. */
  const published = () => spy.seen.length

  beforeAll(async () => {
    t = await startTestPlane({ capMaxAgeS: MAX_AGE_S, capMaxFutureS: 60 })
    await seedTree(t)
    spy = await spyCommands(t)
  })
  afterAll(async () => {
    await spy?.close()
    await t?.close()
  })

  return {
    get t() {
      return t
    },
    s,
    id,
    post,
    alertOf,
    allAlerts,
    desiredAlerts,
    published,
  }
}
