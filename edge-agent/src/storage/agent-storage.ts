import type { Logger } from 'pino'
import type { AgentConfig } from '../config/config.js'
import type { Outbox } from '../link/outbox.js'
import { convertToIncremental, Pruner } from '../media/prune.js'
import type { Db } from './db.js'
import { DiskReserve } from './disk-reserve.js'
import { isDiskFull, StorageGuard } from './guard.js'
import { type DbRecovery, openAgentDb } from './recovery.js'

const MB = 1024 * 1024

/**
 * The agent's database and data disk, wired for the Agent (docs/edge-agent.md, Storage): the database opened
 * through its check and recovery (converted once to incremental auto-vacuum), the guard that handles corruption
 * and a full disk while running, the pruner, and what is retried when a full disk has room again.
 */
export class AgentStorage {
  readonly db: Db
  /** Set when the database was found damaged at start and replaced (storage/recovery.ts). */
  readonly recovery: DbRecovery | null
  readonly guard: StorageGuard
  /** Incoming messages that met a full disk. */
  readonly fullDisk: FullDiskRetry
  private pruner: Pruner | null = null

  constructor(
    private readonly config: AgentConfig,
    private readonly log: Logger,
    o: {
      onCorrupt: (err: unknown) => void
      outbox: () => Outbox
      handleMessage: (topic: string, payload: Buffer) => void
    },
  ) {
    const s = config.storage
    // A damaged file is moved aside and replaced here, before anything reads it (storage/recovery.ts).
    const { db, recovery } = openAgentDb(config.dataDir, { keepDamaged: s?.keepDamaged })
    this.db = db
    this.recovery = recovery
    // Once, on a box installed before auto_vacuum: so that pruning hands pages back to the disk (media/prune.ts).
    convertToIncremental(db, log)
    this.guard = new StorageGuard({
      dataDir: config.dataDir,
      log,
      reserve: new DiskReserve(config.dataDir, Math.round((s?.reserveMb ?? 16) * MB)),
      checkMs: this.diskCheckMs,
      onCorrupt: o.onCorrupt,
      report: (kind, message, data) =>
        o.outbox().event(kind, kind === 'disk-full' ? 'error' : 'info', message, data),
    })
    this.fullDisk = new FullDiskRetry(o.handleMessage, this.guard, log)
  }

  get diskCheckMs(): number {
    return (this.config.storage?.diskCheckS ?? 30) * 1000
  }

  /** Reports a recovery, starts the reserve, the pruner, and the retries when room returns (`onRoom`). */
  start(outbox: Outbox, onRoom: () => void): void {
    if (this.recovery) reportRecovery(outbox, this.log, this.recovery)
    this.guard.onRoom(() => {
      this.fullDisk.replay()
      onRoom()
    })
    // In the background: writing the reserve takes a moment on an SD card, and nothing needs it yet.
    void this.guard.start()
    this.pruner = new Pruner({
      db: this.db,
      outbox,
      log: this.log,
      budgetBytes: Math.round((this.config.storage?.dbBudgetMb ?? 200) * MB),
      retentionDays: this.config.storage?.playRetentionDays ?? 30,
      storage: this.guard,
    })
    this.pruner.start()
  }

  async stop(): Promise<void> {
    this.guard.stop()
    await this.pruner?.stop()
  }
}

/**
 * The database was damaged and replaced: say so (the damaged file stays on the box for diagnosis). The desired
 * state comes again by itself: the reported state sent on connect names the version held (none, unless it could
 * be carried over), and the control plane re-publishes to a box whose reported version lags.
 */
export function reportRecovery(outbox: Outbox, log: Logger, r: DbRecovery): void {
  log.error({ recovery: r }, 'database was damaged: moved aside, started from a fresh one')
  outbox.event(
    'database-recovered',
    'error',
    `database damaged (${r.code}, found at ${r.detectedBy}): kept as ${r.damagedFile}, started from a fresh one`,
    { ...r, error: r.error.slice(0, 500) },
  )
}

/**
 * Incoming messages that met a full disk: handled again at once (the guard has given up the reserve); still full,
 * the newest desired state waits in memory and is handled when the disk has room (`replay`).
 */
export class FullDiskRetry {
  private waiting: { topic: string; payload: Buffer } | null = null

  constructor(
    private readonly handle: (topic: string, payload: Buffer) => void,
    private readonly guard: StorageGuard,
    private readonly log: Logger,
  ) {}

  /** Whether `err` was a full disk (then it is dealt with here). */
  retry(topic: string, payload: Buffer, err: unknown): boolean {
    if (!isDiskFull(err)) return false
    this.guard.handle(err)
    try {
      this.handle(topic, payload)
    } catch (again) {
      this.log.error({ err: again, topic }, 'message handling failed: disk full')
      this.guard.handle(again)
      if (isDiskFull(again) && topic.endsWith('/desired')) this.waiting = { topic, payload }
    }
    return true
  }

  replay(): void {
    const w = this.waiting
    this.waiting = null
    if (w) this.handle(w.topic, w.payload)
  }
}
