import type { Logger } from 'pino'
import { isCorruption, markSuspect } from './db-recovery.js'

/** SQLITE_FULL, or a file write that ran out of room (ENOSPC, EDQUOT). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT'
}

export interface StorageGuardOptions {
  dataDir: string
  log: Logger
  /**
   * The database is damaged: the agent must restart (main.ts exits, systemd starts it again in 3 s) so that the
   * next start moves the file aside and recovers (db-recovery.ts). Called once.
   */
  onCorrupt: (err: unknown) => void
}

/**
 * Where storage faults seen while running go, from every place that catches errors of the database or the disk
 * (the scheduler loop, the reconciler, incoming messages, telemetry, the uncaught-error handler). A corruption
 * leaves a note for the next start and asks for a restart.
 */
export class StorageGuard {
  private corrupt = false

  constructor(private readonly o: StorageGuardOptions) {}

  /** Handles `err` if it is a storage fault; returns whether it was one. Never throws. */
  handle(err: unknown): boolean {
    if (isCorruption(err)) {
      if (this.corrupt) return true
      this.corrupt = true
      markSuspect(this.o.dataDir, err)
      this.o.log.fatal({ err }, 'database damaged: restarting to recover it')
      try {
        this.o.onCorrupt(err)
      } catch {}
      return true
    }
    return false
  }
}
