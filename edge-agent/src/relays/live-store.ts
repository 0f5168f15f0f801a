import type { LiveSpec } from '@loa/shared'
import { iso } from '../playback/item-player.js'
import type { Db } from '../storage/db.js'

export type LiveState = 'active' | 'done' | 'expired' | 'cancelled'

export interface LiveRow {
  live_id: string
  revision: number
  ack_id: string
  state: LiveState
  spec: string
}

/** Finished rows only serve de-duplication: after 30 days a replay is long past its end. */
const KEEP_MS = 30 * 86_400_000

/** Table `lives`: one row per live id, its newest revision and where it stands (survives restarts). */
export class LiveStore {
  constructor(private readonly db: Db) {}

  row(liveId: string): LiveRow | undefined {
    return this.db.prepare('SELECT * FROM lives WHERE live_id = ?').get(liveId) as LiveRow | undefined
  }

  setState(liveId: string, state: LiveState, reason: string | null): void {
    this.db
      .prepare('UPDATE lives SET state = ?, reason = ?, updated_at = ? WHERE live_id = ?')
      .run(state, reason, iso(Date.now()), liveId)
  }

  /** Forgets old finished rows; returns the lives still on. */
  restore(): LiveSpec[] {
    this.db
      .prepare("DELETE FROM lives WHERE state != 'active' AND updated_at < ?")
      .run(iso(Date.now() - KEEP_MS))
    const rows = this.db.prepare("SELECT * FROM lives WHERE state = 'active'").all() as LiveRow[]
    return rows.map((r) => JSON.parse(r.spec) as LiveSpec)
  }

  /** Stores a revision; `desiredVersion` is the desired state held when it came, `fromDesired` how it came. */
  put(spec: LiveSpec, state: LiveState, now: number, desiredVersion: number, fromDesired: boolean): void {
    this.db
      .prepare(
        `INSERT INTO lives (live_id, revision, ack_id, spec, state, reason, updated_at, desired_version,
           from_desired)
         VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)
         ON CONFLICT (live_id) DO UPDATE SET revision = excluded.revision, ack_id = excluded.ack_id,
           spec = excluded.spec, state = excluded.state, reason = NULL, updated_at = excluded.updated_at,
           desired_version = excluded.desired_version, from_desired = excluded.from_desired`,
      )
      .run(
        spec.liveId,
        spec.revision,
        spec.ackId,
        JSON.stringify(spec),
        state,
        iso(now),
        desiredVersion,
        fromDesired ? 1 : 0,
      )
  }

  /** A stop for an id never seen: remembered, so a live-start delivered after it never plays. */
  rememberStopped(liveId: string, reason: string): void {
    this.db
      .prepare(
        `INSERT INTO lives (live_id, revision, ack_id, spec, state, reason, updated_at)
         VALUES (?, 0, '', '{}', 'cancelled', ?, ?)`,
      )
      .run(liveId, reason, iso(Date.now()))
  }

  /**
   * Active lives held since a desired state older than `version`: those that came in a desired state, and those
   * that came by command before `commandBefore` (epoch ms).
   */
  heldBefore(version: number, commandBefore: number): string[] {
    const rows = this.db
      .prepare(
        `SELECT live_id FROM lives WHERE state = 'active' AND desired_version < ?
           AND (from_desired = 1 OR updated_at < ?)`,
      )
      .all(version, iso(commandBefore)) as { live_id: string }[]
    return rows.map((r) => r.live_id)
  }
}
