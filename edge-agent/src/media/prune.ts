import type { Logger } from 'pino'
import type { Outbox } from '../link/outbox.js'
import type { Db } from '../storage/db.js'
import type { StorageGuard } from '../storage/guard.js'

const DAY = 86_400_000
/** Rows looked at (and deleted) per step: each step is a short write, and the event loop runs between them. */
const SCAN = 1000
/** Pages handed back to the disk per step of the incremental vacuum (1 MiB of 4 KiB pages). */
const VACUUM_STEP = 256
/** Rows younger than this are never deleted, whatever the budget: the technician's page shows them. */
const KEEP_RECENT_MS = DAY
/** A database created before auto_vacuum was set is converted by one VACUUM at start, if it is this small. */
export const CONVERT_MAX_BYTES = 64 * 1024 * 1024

/** When a play happened, as far as its row says: its end, its start, or its scheduled instant. */
const PLAY_AT = "coalesce(relay_off_at, ended_at, started_at, occurrence, '')"
/** Only plays the control plane has receipted: their outbox entry is gone. */
const RECEIPTED = 'NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = plays.report_id)'

export interface PrunerOptions {
  db: Db
  outbox: Outbox
  log: Logger
  /** Live pages (page_count − freelist_count) beyond this: the oldest receipted rows go first. */
  budgetBytes: number
  retentionDays: number
  storage?: StorageGuard
  now?: () => number
  /** First run after start, then every `everyMs`. */
  firstAfterMs?: number
  everyMs?: number
}

export interface PruneResult {
  plays: number
  ampSwitchLog: number
  finished: number
  /** Live bytes before and after; the file's size after (pages handed back when auto_vacuum is incremental). */
  liveBytesBefore: number
  liveBytesAfter: number
  fileBytesAfter: number
  /** The budget could not be met: only rows that must not be deleted (unreceipted, recent) are left. */
  overBudget: boolean
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r))

/** Live bytes of the database (what its rows take) and the file's size, from its page counts. */
export function dbBytes(db: Db): { live: number; file: number } {
  const page = db.pragma('page_size', { simple: true }) as number
  const count = db.pragma('page_count', { simple: true }) as number
  const free = db.pragma('freelist_count', { simple: true }) as number
  return { live: (count - free) * page, file: count * page }
}

/**
 * An agent database from before auto_vacuum (every box installed before it) keeps its freed pages for reuse but
 * never returns them to the disk. Converted once, at start, by a VACUUM if it is small enough to be quick
 * (CONVERT_MAX_BYTES: a few seconds on a Pi 4); a larger one is pruned all the same (its file stops growing) and
 * converted at a later start once pruning has made it small. Returns whether it is incremental now.
 */
export function convertToIncremental(db: Db, log: Logger): boolean {
  if ((db.pragma('auto_vacuum', { simple: true }) as number) === 2) return true
  const { live } = dbBytes(db)
  if (live > CONVERT_MAX_BYTES) return false
  try {
    const t0 = Date.now()
    db.pragma('auto_vacuum = INCREMENTAL')
    db.exec('VACUUM')
    log.info({ liveBytes: live, ms: Date.now() - t0 }, 'database converted to incremental auto-vacuum')
    return true
  } catch (err) {
    log.warn({ err }, 'database not converted to incremental auto-vacuum')
    return false
  }
}

/**
 * Keeps the box's own logs within a disk budget (docs/edge-agent.md, Storage). Deleted, in small batches with the
 * event loop running in between: plays the control plane has receipted (their outbox entry is gone) older than
 * the retention, amplifier switch log rows older than the retention, finished alerts and lives older than it;
 * then, while the live data is still over the budget, the oldest receipted plays and amplifier switch log rows
 * whatever their age, except those of the last day. A play still in the outbox (unreceipted) is never deleted. Freed pages go back
 * to the disk (incremental vacuum) where the database allows it.
 */
export class Pruner {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<PruneResult> | null = null
  private stopped = false
  private overBudgetSaidAt = 0
  private readonly now: () => number

  constructor(private readonly o: PrunerOptions) {
    this.now = o.now ?? Date.now
  }

  start(): void {
    const every = this.o.everyMs ?? 3_600_000
    const tick = () => {
      void this.run().catch((err) => {
        this.o.log.error({ err }, 'pruning failed')
        this.o.storage?.handle(err)
      })
    }
    this.timer = setTimeout(() => {
      tick()
      this.timer = setInterval(tick, every)
      this.timer.unref()
    }, this.o.firstAfterMs ?? 120_000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.running?.catch(() => {})
  }

  /** One pruning pass (at most one at a time). */
  run(): Promise<PruneResult> {
    this.running ??= this.pass().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async pass(): Promise<PruneResult> {
    const { db } = this.o
    const now = this.now()
    const before = dbBytes(db).live
    const oldBefore = new Date(now - this.o.retentionDays * DAY).toISOString()
    const recentFrom = new Date(now - KEEP_RECENT_MS).toISOString()
    const r: PruneResult = {
      plays: 0,
      ampSwitchLog: 0,
      finished: 0,
      liveBytesBefore: before,
      liveBytesAfter: before,
      fileBytesAfter: 0,
      overBudget: false,
    }
    r.finished += db
      .prepare(`DELETE FROM alerts WHERE state != 'active' AND updated_at < ?`)
      .run(oldBefore).changes
    r.finished += db
      .prepare(`DELETE FROM lives WHERE state != 'active' AND updated_at < ?`)
      .run(oldBefore).changes
    // Past the retention, then (over the budget) the oldest whatever their age, except the last day's.
    await this.deleteOldest(r, oldBefore, () => true)
    if (dbBytes(db).live > this.o.budgetBytes) {
      const done = await this.deleteOldest(r, recentFrom, () => dbBytes(db).live > this.o.budgetBytes)
      r.overBudget = !done && !this.stopped
    }
    while (!this.stopped && (await this.vacuumStep())) await yieldLoop()
    const after = dbBytes(db)
    r.liveBytesAfter = after.live
    r.fileBytesAfter = after.file
    if (r.plays + r.ampSwitchLog + r.finished > 0) this.o.log.info(r, 'pruned')
    if (r.overBudget) this.sayOverBudget(r)
    return r
  }

  /**
   * Deletes receipted plays and amplifier switch log rows before `before`, oldest first, while `more()`. Each table
   * is walked once in seq order (the order rows were written in, so oldest first), SCAN rows at a time with the event loop
   * running in between: rows that must stay are looked at once, and a walk ends at the first row younger than
   * `before`. The amplifier switch log follows the plays (never past the instant the play walk has reached), so both
   * logs are cut at the same time. Returns whether `more()` turned false (false: nothing left to delete).
   */
  private async deleteOldest(r: PruneResult, before: string, more: () => boolean): Promise<boolean> {
    const { db } = this.o
    const plays = {
      select: db.prepare(`SELECT seq, ${PLAY_AT} AS at, NOT ${RECEIPTED} AS kept FROM plays
        WHERE seq > ? ORDER BY seq LIMIT ${SCAN}`),
      del: db.prepare('DELETE FROM plays WHERE seq IN (SELECT value FROM json_each(?))'),
      after: 0,
      done: false,
    }
    const switching = {
      select: db.prepare(`SELECT seq, at FROM relay_log WHERE seq > ? ORDER BY seq LIMIT ${SCAN}`),
      del: db.prepare('DELETE FROM relay_log WHERE seq IN (SELECT value FROM json_each(?))'),
      after: 0,
      done: false,
    }
    let frontier = before
    while (!this.stopped) {
      if (!more()) return true
      if (plays.done && switching.done) return false
      if (!plays.done) {
        const rows = plays.select.all(plays.after) as { seq: number; at: string; kept: number }[]
        const last = rows[rows.length - 1]
        if (!last || rows.length < SCAN || last.at >= before) plays.done = true
        if (last) plays.after = last.seq
        frontier = plays.done ? before : (last?.at ?? before)
        const doomed = rows.filter((x) => x.at < before && x.kept === 0).map((x) => x.seq)
        if (doomed.length > 0) r.plays += plays.del.run(JSON.stringify(doomed)).changes
      }
      // Without a frontier move there is nothing new for the amplifier switch log to catch up with.
      for (let caught = false; !switching.done && !caught; ) {
        const rows = switching.select.all(switching.after) as { seq: number; at: string }[]
        const last = rows[rows.length - 1]
        // Done only once the plays walk is (the frontier is final): rows between it and `before` are still to come.
        if (!last || (frontier === before && (rows.length < SCAN || last.at >= before))) switching.done = true
        caught = !last || last.at >= frontier || rows.length < SCAN
        const doomed = rows.filter((x) => x.at < frontier).map((x) => x.seq)
        if (last)
          switching.after =
            doomed.length === rows.length ? last.seq : (doomed[doomed.length - 1] ?? switching.after)
        if (doomed.length > 0) r.ampSwitchLog += switching.del.run(JSON.stringify(doomed)).changes
        await yieldLoop()
      }
      await this.vacuumStep()
      await yieldLoop()
    }
    return false
  }

  /** Hands freed pages back to the disk, a step at a time; false once there is nothing (more) to hand back. */
  private async vacuumStep(): Promise<boolean> {
    const { db } = this.o
    if ((db.pragma('auto_vacuum', { simple: true }) as number) !== 2) return false
    if ((db.pragma('freelist_count', { simple: true }) as number) === 0) return false
    db.pragma(`incremental_vacuum(${VACUUM_STEP})`)
    return true
  }

  /** What is left over the budget must not be deleted (unreceipted): said once a day. */
  private sayOverBudget(r: PruneResult): void {
    const now = this.now()
    if (now - this.overBudgetSaidAt < DAY) return
    this.overBudgetSaidAt = now
    const pending = this.o.outbox.pendingCount()
    this.o.outbox.event(
      'storage-over-budget',
      'warning',
      `agent database ${Math.round(r.liveBytesAfter / 1e6)} MB, over its budget of ${Math.round(this.o.budgetBytes / 1e6)} MB: what is left is not yet receipted or from the last day`,
      { liveBytes: r.liveBytesAfter, budgetBytes: this.o.budgetBytes, outboxPending: pending },
    )
  }
}
