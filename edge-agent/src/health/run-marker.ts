import { type Db, kvGet } from '../storage/db.js'

const RUNNING = 'agent.running'
const UNHEALTHY = 'agent.unhealthy'
const CRASH = 'agent.crash'

/** Why the previous run ended without a clean stop, as far as it left evidence. */
export interface PreviousRun {
  /** `watchdog`: it had stopped pinging (hung); `crash`: uncaught error; `killed`: no record (kill -9, power cut). */
  cause: 'watchdog' | 'crash' | 'killed'
  pid?: number
  startedAt?: string
  /** The health snapshot taken when the pings stopped. */
  unhealthy?: { at: string; reasons: string[]; snapshot: Record<string, unknown> }
  crash?: { at: string; error: string }
}

const put = (db: Db, key: string, value: unknown) =>
  db
    .prepare(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    )
    .run(key, JSON.stringify(value))
const json = <T>(db: Db, key: string): T | undefined => {
  const v = kvGet(db, key)
  try {
    return v === undefined ? undefined : (JSON.parse(v) as T)
  } catch {
    return undefined
  }
}

/**
 * At start: what the previous run left behind (and forget it), then mark this run as running. A clean stop removes
 * the running marker; a hang leaves its health snapshot even when systemd then stops it cleanly.
 */
export function takePreviousRun(db: Db, pid: number): PreviousRun | null {
  return db.transaction((): PreviousRun | null => {
    const running = json<{ pid: number; startedAt: string }>(db, RUNNING)
    const unhealthy = json<PreviousRun['unhealthy']>(db, UNHEALTHY)
    const crash = json<PreviousRun['crash']>(db, CRASH)
    db.prepare('DELETE FROM kv WHERE key IN (?, ?)').run(UNHEALTHY, CRASH)
    put(db, RUNNING, { pid, startedAt: new Date().toISOString() })
    if (!running && !unhealthy) return null
    const cause: PreviousRun['cause'] = unhealthy ? 'watchdog' : crash ? 'crash' : 'killed'
    return { cause, ...running, ...(unhealthy ? { unhealthy } : {}), ...(crash ? { crash } : {}) }
  })()
}

export function markStopped(db: Db): void {
  db.prepare('DELETE FROM kv WHERE key = ?').run(RUNNING)
}

/** The watchdog stopped pinging: keep why, for the report after the restart. */
export function recordUnhealthy(db: Db, reasons: string[], snapshot: Record<string, unknown>): void {
  put(db, UNHEALTHY, { at: new Date().toISOString(), reasons, snapshot })
}

/** Healthy again before systemd acted: nothing to report. */
export function clearUnhealthy(db: Db): void {
  db.prepare('DELETE FROM kv WHERE key = ?').run(UNHEALTHY)
}

/** Synchronous (better-sqlite3), for the uncaught-error handler. Never throws. */
export function recordCrash(db: Db, err: unknown): void {
  try {
    put(db, CRASH, {
      at: new Date().toISOString(),
      error: String(err instanceof Error ? err.stack : err).slice(0, 1000),
    })
  } catch {}
}
