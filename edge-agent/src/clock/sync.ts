import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** What the OS says about the wall clock: NTP has synchronised it, has not (yet), or it cannot tell. */
export type SyncState = 'synced' | 'unsynced' | 'unknown' | 'trusted'

/**
 * Reads whether the local clock is synchronised. `initial` answers synchronously once at start (the scheduler's
 * first decisions depend on it); `read` is polled afterwards.
 */
export interface ClockSync {
  initial?(): SyncState
  read(): SyncState | Promise<SyncState>
}

/** A box whose clock is right by construction (a battery-backed RTC, GNSS time): never in doubt. */
export const trustedSync: ClockSync = { initial: () => 'trusted', read: () => 'trusted' }

/** Synced while `path` exists (systemd-timesyncd's `/run/systemd/timesync/synchronized`, or a hook's own file). */
export function fileSync(path: string): ClockSync {
  const read = (): SyncState => (existsSync(path) ? 'synced' : 'unsynced')
  return { initial: read, read }
}

const TIMESYNCD_FILE = '/run/systemd/timesync/synchronized'
const TIMEDATECTL_ARGS = ['show', '-p', 'NTPSynchronized', '--value']

const fromTimedatectl = (out: string): SyncState =>
  out.trim() === 'yes' ? 'synced' : out.trim() === 'no' ? 'unsynced' : 'unknown'

/**
 * What a Raspberry Pi OS / Debian box offers: timesyncd's flag file, else `timedatectl` (which asks the kernel via
 * timedated, so chrony and ntpd count too). Neither answering (no systemd): `unknown`, which is trusted.
 */
export function systemSync(
  timesyncFile = TIMESYNCD_FILE,
  timedatectl: string | null = 'timedatectl',
): ClockSync {
  return {
    initial: () => {
      if (existsSync(timesyncFile)) return 'synced'
      if (!timedatectl) return 'unknown'
      try {
        return fromTimedatectl(
          execFileSync(timedatectl, TIMEDATECTL_ARGS, {
            timeout: 3000,
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
          }),
        )
      } catch {
        return 'unknown'
      }
    },
    read: async () => {
      if (existsSync(timesyncFile)) return 'synced'
      if (!timedatectl) return 'unknown'
      try {
        return fromTimedatectl((await run(timedatectl, TIMEDATECTL_ARGS, { timeout: 3000 })).stdout)
      } catch {
        return 'unknown'
      }
    },
  }
}

/** A sync state a test sets. */
export class SimulatedSync implements ClockSync {
  constructor(public state: SyncState = 'unsynced') {}
  initial(): SyncState {
    return this.state
  }
  read(): SyncState {
    return this.state
  }
}

/** Config `clock.sync`: `auto` (systemSync), `trusted`, or `file:<path>` (synced while the file exists). */
export function clockSyncFrom(spec: string): ClockSync {
  if (spec === 'trusted') return trustedSync
  if (spec.startsWith('file:')) return fileSync(spec.slice('file:'.length))
  return systemSync()
}
