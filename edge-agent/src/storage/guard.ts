import type { Logger } from 'pino'
import type { DiskReserve } from './disk-reserve.js'
import { diskSpace } from './disk-space.js'
import { isCorruption, markSuspect } from './recovery.js'

/** SQLITE_FULL, or a file write that ran out of room (ENOSPC, EDQUOT). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT'
}

/** Room the disk must have besides the reserve before the full state ends. */
const ROOM_MARGIN = 2 * 1024 * 1024

export interface StorageGuardOptions {
  dataDir: string
  log: Logger
  /**
   * The database is damaged: the agent must restart (main.ts exits, systemd starts it again in 3 s) so that the
   * next start moves the file aside and recovers (storage/recovery.ts). Called once.
   */
  onCorrupt: (err: unknown) => void
  /** Given up when the disk is full, set aside again when it has room. */
  reserve?: DiskReserve
  /** How often the free space is looked at while the disk is full. */
  checkMs?: number
  /** Tells the control plane (an event through the outbox): `disk-full`, `disk-space-recovered`. */
  report?: (
    kind: 'disk-full' | 'disk-space-recovered',
    message: string,
    data: Record<string, unknown>,
  ) => void
}

/**
 * Where storage faults seen while running go, from every place that catches errors of the database or the disk
 * (the scheduler, the reconciler, incoming messages, telemetry, the uncaught-error handler).
 *
 * - A corruption leaves a note for the next start and asks for a restart (storage/recovery.ts does the rest).
 * - A full disk never stops the agent: the reserve is deleted at once (so the write that failed can be retried
 *   and the plays after it still fit), `disk-full` is reported, and the free space is checked every `checkMs`;
 *   once there is room again the reserve is written back, `disk-space-recovered` is reported and everything that
 *   waited for room is retried (`onRoom` listeners: unwritten plays, a desired state not stored, downloads).
 */
export class StorageGuard {
  private corrupt = false
  private full = false
  private fullSince: string | null = null
  private timer: NodeJS.Timeout | null = null
  private checking = false
  private stopped = false
  private readonly roomListeners: (() => void)[] = []

  constructor(private readonly o: StorageGuardOptions) {}

  /** Whether the disk was found full and has not had room since. */
  get diskFull(): boolean {
    return this.full
  }

  /**
   * Sets the reserve aside if it is missing (at start). No room for it (a box that started on a full disk, having
   * given its reserve up to open the database): the disk counts as full until there is.
   */
  async start(): Promise<void> {
    try {
      if (this.o.reserve && !(await this.o.reserve.ensure(ROOM_MARGIN))) {
        this.handle(Object.assign(new Error('no room for the disk reserve'), { code: 'ENOSPC' }))
      }
    } catch (err) {
      this.o.log.warn({ err }, 'cannot set the disk reserve aside')
    }
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Called once room has come back after the disk was full. */
  onRoom(listener: () => void): void {
    this.roomListeners.push(listener)
  }

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
    if (isDiskFull(err)) {
      this.diskFullSeen(err)
      return true
    }
    return false
  }

  private diskFullSeen(err: unknown): void {
    const released = this.o.reserve?.release() ?? 0
    if (!this.full) {
      this.full = true
      this.fullSince = new Date().toISOString()
      const e = err as { code?: string; message?: string }
      this.o.log.error({ err, releasedBytes: released }, 'disk full: reserve given up, waiting for room')
      try {
        this.o.report?.('disk-full', `data disk full (${e.code}): reserve of ${released} bytes given up`, {
          code: e.code,
          error: String(e.message).slice(0, 300),
          releasedBytes: released,
        })
      } catch {}
    }
    if (!this.timer && !this.stopped) {
      this.timer = setInterval(() => void this.check(), this.o.checkMs ?? 30_000)
      this.timer.unref()
    }
  }

  /** Room again? Then the reserve first, then everything that waited. */
  private async check(): Promise<void> {
    if (this.checking || this.stopped) return
    this.checking = true
    try {
      const { free } = await diskSpace(this.o.dataDir)
      if (free < (this.o.reserve?.bytes ?? 0) + ROOM_MARGIN) return
      if (this.o.reserve && !(await this.o.reserve.ensure(ROOM_MARGIN))) return
      this.full = false
      if (this.timer) clearInterval(this.timer)
      this.timer = null
      this.o.log.info({ freeBytes: free }, 'disk has room again')
      try {
        // `fullSince` also covers a `disk-full` event that found no room to be written.
        this.o.report?.('disk-space-recovered', 'data disk has room again', {
          fullSince: this.fullSince,
          freeBytes: free,
          reserveBytes: this.o.reserve?.bytes ?? 0,
        })
      } catch (err) {
        this.handle(err)
      }
      for (const l of this.roomListeners) {
        try {
          l()
        } catch (err) {
          this.o.log.error({ err }, 'retry after the disk had room again failed')
          this.handle(err)
        }
      }
    } catch (err) {
      this.o.log.warn({ err }, 'disk space check failed')
    } finally {
      this.checking = false
    }
  }
}
