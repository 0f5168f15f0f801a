import type { PlayReportBody } from '@loa/shared'
import type { Outbox } from '../link/outbox.js'
import type { Db } from '../storage/db.js'
import { isDiskFull, type StorageGuard } from '../storage/guard.js'

/**
 * The play's `attempt`: how many reports of the same item of the same occurrence this box already holds. With
 * (device, scheduleId, occurrence, sha256) it names the play whatever its envelope id, so a box that lost its WAL
 * (or its whole database) and reports a play again gives it the name it had the first time. Fallback fill has no
 * occurrence, hence no name.
 */
function attemptOf(db: Db, r: PlayReportBody): number | undefined {
  if (r.scheduleId === null || r.occurrence === null) return undefined
  const row = db
    .prepare('SELECT count(*) AS n FROM plays WHERE schedule_id = ? AND occurrence = ? AND sha256 = ?')
    .get(r.scheduleId, r.occurrence, r.sha256) as { n: number }
  return row.n
}

/** Writes one play report to table `plays` and to the outbox; call inside the transaction that caused it. */
export function recordPlay(db: Db, outbox: Outbox, report: PlayReportBody): string {
  const attempt = attemptOf(db, report)
  const r: PlayReportBody = attempt === undefined ? report : { ...report, attempt }
  const id = outbox.enqueue('play', r)
  db.prepare(
    `INSERT INTO plays (report_id, schedule_id, title, sha256, level, priority, fallback, occurrence, status, reason,
       relay_on_at, started_at, ended_at, relay_off_at, duration_ms, attempt)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    r.scheduleId,
    r.title,
    r.sha256,
    r.level,
    r.priority,
    r.fallback ? 1 : 0,
    r.occurrence,
    r.status,
    r.reason ?? null,
    r.relayOnAt,
    r.startedAt,
    r.endedAt,
    r.relayOffAt,
    r.durationMs,
    attempt ?? null,
  )
  return id
}

/** Whether this box already holds a report of the occurrence (any item, any status). */
export function occurrenceReported(db: Db, scheduleId: string, occurrence: string): boolean {
  return (
    db
      .prepare('SELECT 1 FROM plays WHERE schedule_id = ? AND occurrence = ? LIMIT 1')
      .get(scheduleId, occurrence) !== undefined
  )
}

/** One play as the technician's page lists it (field names are the page's JSON). */
export interface RecentPlay {
  title: string
  priority: number
  status: PlayReportBody['status']
  reason: string | null
  startedAt: string
  endedAt: string
  scheduleId: string | null
}

/** Unwritten plays kept in memory while the disk is full; beyond this they are only counted. */
const MAX_BACKLOG = 10_000

interface Uncounted {
  scheduleId: string | null
  status: PlayReportBody['status']
  count: number
  durationMs: number
  first: string | null
  last: string | null
}

/**
 * The play log as the scheduler writes it: every write is one transaction (plays, outbox, scheduler state), and a
 * full disk never loses a play. The first SQLITE_FULL gives up the disk reserve (storage/guard.ts) and the write
 * is tried again; if the disk is still full, the write's effects in memory stand (the occurrence counts as
 * reported, so it is neither played again nor reported missed) and its plays are kept in memory, then written —
 * with their outbox entries — as soon as a write succeeds or the disk has room again. Beyond 10,000 unwritten
 * plays only counts per schedule and status are kept, reported as one `plays-unrecorded` event.
 */
export class PlayLog {
  private memoryOnly = false
  private backlog: PlayReportBody[] = []
  private readonly uncounted = new Map<string, Uncounted>()

  constructor(
    private readonly db: Db,
    private readonly outbox: Outbox,
    private readonly storage?: StorageGuard,
  ) {}

  /** True while a write runs without the database: what it persists besides plays is skipped until the next. */
  get offline(): boolean {
    return this.memoryOnly
  }

  /** Plays waiting in memory for room on the disk. */
  get unwritten(): number {
    let n = this.backlog.length
    for (const u of this.uncounted.values()) n += u.count
    return n
  }

  /** The last plays written, newest first (plays still waiting in memory are not among them). */
  recent(limit: number): RecentPlay[] {
    return this.db
      .prepare(
        `SELECT title, priority, status, reason, started_at AS startedAt, ended_at AS endedAt, schedule_id AS scheduleId
         FROM plays ORDER BY rowid DESC LIMIT ?`,
      )
      .all(limit) as RecentPlay[]
  }

  /** Records one play: call inside `write`. */
  record(r: PlayReportBody): void {
    if (this.memoryOnly) this.keep(r)
    else recordPlay(this.db, this.outbox, r)
  }

  /** Runs `fn` in one transaction; false if the disk was full and its plays wait in memory. Other errors throw. */
  write(fn: () => void): boolean {
    this.flush()
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        this.db.transaction(fn)()
        return true
      } catch (err) {
        if (!isDiskFull(err)) throw err
        this.storage?.handle(err)
      }
    }
    this.memoryOnly = true
    try {
      fn()
    } finally {
      this.memoryOnly = false
    }
    return false
  }

  /** Writes the plays kept in memory, if there are any and the disk lets it. */
  flush(): void {
    if (this.backlog.length === 0 && this.uncounted.size === 0) return
    try {
      this.db.transaction(() => {
        for (const r of this.backlog) recordPlay(this.db, this.outbox, r)
        if (this.uncounted.size > 0) {
          const groups = [...this.uncounted.values()]
          const count = groups.reduce((n, g) => n + g.count, 0)
          this.outbox.event(
            'plays-unrecorded',
            'error',
            `${count} plays could not be recorded one by one (disk full): counted per schedule and status`,
            { count, groups: groups.slice(0, 200) },
          )
        }
      })()
      this.backlog = []
      this.uncounted.clear()
    } catch (err) {
      if (!isDiskFull(err)) throw err
      this.storage?.handle(err)
    }
  }

  private keep(r: PlayReportBody): void {
    if (this.backlog.length < MAX_BACKLOG) {
      this.backlog.push(r)
      return
    }
    const key = `${r.scheduleId}|${r.status}`
    const u = this.uncounted.get(key) ?? {
      scheduleId: r.scheduleId,
      status: r.status,
      count: 0,
      durationMs: 0,
      first: r.occurrence ?? r.startedAt,
      last: null,
    }
    u.count++
    u.durationMs += r.durationMs
    u.last = r.occurrence ?? r.startedAt
    this.uncounted.set(key, u)
  }
}
