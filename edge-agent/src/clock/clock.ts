import { performance } from 'node:perf_hooks'
import type { ClockTelemetry } from '@loa/shared'
import { type Db, kvGet, kvSet } from '../storage/db.js'
import { type ClockSync, type SyncState, trustedSync } from './sync.js'

/** Where time comes from: the local wall clock (NTP or a person can step it) and a monotonic clock (never does). */
export interface TimeSource {
  wall(): number
  mono(): number
}

export const systemTime: TimeSource = { wall: () => Date.now(), mono: () => performance.now() }

/** Monotonic milliseconds: for durations, timeouts, back-offs and rate limits, never for instants. */
export const monotonicMs = (): number => performance.now()

export type ClockState = ClockTelemetry['state']

/** A step of the local wall clock: the wall time expected from monotonic time, the time found, and the difference. */
export interface ClockJump {
  fromMs: number
  toMs: number
  /** Positive: stepped forward; negative: stepped back. */
  deltaMs: number
}

export interface ClockOptions {
  time?: TimeSource
  /** Whether the OS has synchronised the clock (NTP); default: always trusted. */
  sync?: ClockSync
  /** Persists the floor (kv `signed_time_floor`) so it survives a restart. */
  db?: Db
  /** A change of (wall − monotonic) at least this large between two checks is a jump (default 1000 ms). */
  jumpThresholdMs?: number
  /** How often the jump check and the state run without being asked (default 1 s). */
  checkMs?: number
  /** How often the sync source is read (default 30 s; at once after a jump). */
  syncPollMs?: number
}

/** The local clock may lag a signed time by this much (delivery, the control plane's own skew) without being behind. */
export const BEHIND_TOLERANCE_MS = 5000
const KV_FLOOR = 'signed_time_floor'
/** While NTP says the clock is right, the wall time is persisted as a floor this often (for the next boot). */
const SYNCED_FLOOR_PERSIST_MS = 10 * 60_000

/**
 * The agent's one idea of time. A Pi has no real-time clock: after a power cut without network it boots with an
 * old or wrong time, and NTP steps it later, back or forward. So:
 * - `now()` is the local wall clock, except when it is behind the floor — the newest time the control plane signed
 *   (or NTP confirmed), advanced by monotonic time since — and then it is that floor;
 * - `lowerBound()` is a time that has certainly passed: `now()` when the clock is trusted (NTP synced, or no way
 *   to tell), else the floor. Expiry and "missed" are judged against it, so a clock that runs ahead while untrusted
 *   neither expires an alert early nor reports occurrences missed that have not happened;
 * - `mono()` is for durations and uptime (never negative after a step back);
 * - jumps are found by comparing wall and monotonic deltas (every `checkMs`, and on every reading), and reported.
 */
export class Clock {
  private readonly time: TimeSource
  private readonly sync: ClockSync
  private readonly threshold: number
  private floor: { ms: number; mono: number } | null = null
  private persistedFloor = 0
  private offset: number | null = null
  private syncState: SyncState
  private lastJump: { at: number; deltaMs: number } | null = null
  private jumps = 0
  private lastState: ClockState | null = null
  private timer: NodeJS.Timeout | null = null
  /** After stop() nothing is told to listeners any more (the agent's database is closing). */
  private stopped = false
  private syncPolledAt = Number.NEGATIVE_INFINITY
  private syncReading = false
  private pollAgain = false
  private floorPersistedAt = Number.NEGATIVE_INFINITY
  private readonly jumpListeners: ((j: ClockJump) => void)[] = []
  private readonly stateListeners: ((from: ClockState | null, to: ClockState) => void)[] = []

  constructor(private readonly o: ClockOptions = {}) {
    this.time = o.time ?? systemTime
    this.sync = o.sync ?? trustedSync
    this.threshold = o.jumpThresholdMs ?? 1000
    const first = this.sync.initial?.()
    this.syncState = first ?? (this.sync === trustedSync ? 'trusted' : 'unknown')
    const saved = o.db ? Number(kvGet(o.db, KV_FLOOR) ?? 0) || 0 : 0
    // A persisted floor was true when it was written, so it is at least as true now: real time has advanced by at
    // least the monotonic time since this process started.
    if (saved > 0) this.floor = { ms: saved, mono: this.time.mono() }
    this.persistedFloor = saved
    this.offset = this.time.wall() - this.time.mono()
  }

  /** Jump check and sync polling on a timer; jumps and state changes are also found whenever the clock is read. */
  start(): void {
    const tick = () => {
      this.check()
      this.emitState()
      this.pollSync(false)
      this.persistSyncedFloor()
    }
    tick()
    this.timer = setInterval(tick, this.o.checkMs ?? 1000)
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  onJump(listener: (j: ClockJump) => void): void {
    this.jumpListeners.push(listener)
  }

  onState(listener: (from: ClockState | null, to: ClockState) => void): void {
    this.stateListeners.push(listener)
  }

  /** The local wall clock as it is. */
  wall(): number {
    this.check()
    return this.time.wall()
  }

  mono(): number {
    return this.time.mono()
  }

  /** The floor advanced by monotonic time: a time known to have passed, whatever the local clock says; null if none. */
  floorNow(): number | null {
    return this.floor ? this.floor.ms + (this.time.mono() - this.floor.mono) : null
  }

  /** The best estimate of the real time. */
  now(): number {
    const w = this.wall()
    const f = this.floorNow()
    return f !== null && f - w > BEHIND_TOLERANCE_MS ? f : w
  }

  /** Whether the local clock can be relied on (NTP synced, configured trusted, or no way to tell). */
  trusted(): boolean {
    return this.syncState !== 'unsynced'
  }

  /** Whether `now()` is the trusted local clock itself (not a floor standing in for a clock that is behind). */
  nowIsWall(): boolean {
    return this.trusted() && this.state() !== 'behind-signed-time'
  }

  /** A time that has certainly passed: `now()` when trusted, otherwise the floor (0 when there is none yet). */
  lowerBound(): number {
    const n = this.now()
    if (this.trusted()) return n
    return Math.min(n, this.floorNow() ?? 0)
  }

  state(): ClockState {
    const f = this.floorNow()
    if (f !== null && f - this.wall() > BEHIND_TOLERANCE_MS) return 'behind-signed-time'
    return this.syncState
  }

  /** A time the control plane signed (a verified `sentAt`): raises the floor. */
  vouch(signedMs: number): void {
    if (!Number.isFinite(signedMs)) return
    const f = this.floorNow()
    if (f !== null && signedMs <= f) return
    this.floor = { ms: signedMs, mono: this.time.mono() }
    // One write per second of progress at most.
    if (this.o.db && signedMs > this.persistedFloor + 1000) {
      kvSet(this.o.db, KV_FLOOR, String(Math.round(signedMs)))
      this.persistedFloor = signedMs
    }
    this.emitState()
  }

  status(): ClockTelemetry {
    const f = this.floorNow()
    return {
      state: this.state(),
      offsetFromSignedMs: f === null ? null : Math.round(this.wall() - f),
      lastJumpAt: this.lastJump ? new Date(this.lastJump.at).toISOString() : null,
      lastJumpMs: this.lastJump ? Math.round(this.lastJump.deltaMs) : null,
      jumps: this.jumps,
    }
  }

  /** Compares (wall − monotonic) with the last reading: a change above the threshold is a jump. */
  private check(): void {
    const w = this.time.wall()
    const off = w - this.time.mono()
    const before = this.offset ?? off
    this.offset = off
    const delta = off - before
    if (Math.abs(delta) < this.threshold) return
    this.jumps++
    this.lastJump = { at: w, deltaMs: delta }
    const j: ClockJump = { fromMs: w - delta, toMs: w, deltaMs: delta }
    // Listeners run outside whatever read the clock (maybe inside a transaction, or the scheduler's loop).
    setImmediate(() => {
      if (this.stopped) return
      for (const l of this.jumpListeners) l(j)
      this.emitState()
    })
    this.pollSync(true)
  }

  private emitState(): void {
    const s = this.state()
    if (this.stopped || s === this.lastState) return
    const from = this.lastState
    this.lastState = s
    for (const l of this.stateListeners) l(from, s)
  }

  private pollSync(now: boolean): void {
    const m = this.time.mono()
    if (this.syncReading) {
      // A jump while a reading is under way: read again once it is done (NTP's step is why the clock moved).
      this.pollAgain ||= now
      return
    }
    if (!now && m - this.syncPolledAt < (this.o.syncPollMs ?? 30_000)) return
    this.syncPolledAt = m
    this.syncReading = true
    void Promise.resolve(this.sync.read())
      .then((s) => {
        this.syncState = s
      })
      .catch(() => {})
      .finally(() => {
        this.syncReading = false
        this.emitState()
        if (this.pollAgain) {
          this.pollAgain = false
          this.pollSync(true)
        }
      })
  }

  private persistSyncedFloor(): void {
    if (!this.o.db || this.syncState !== 'synced' || this.state() !== 'synced') return
    const m = this.time.mono()
    if (m - this.floorPersistedAt < SYNCED_FLOOR_PERSIST_MS) return
    this.floorPersistedAt = m
    this.vouch(this.time.wall())
  }
}

/** The process's clock when nothing else is given: the wall clock, trusted, no floor. */
export const systemClock = new Clock()

/**
 * Sleeps until `clock.now()` reaches `at`, re-reading the clock at least every second, so a jump of the wall clock
 * meanwhile neither makes it wait hours (a step back) nor start early by more than a second (a step forward).
 */
export async function sleepUntil(clock: Clock, at: number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const left = at - clock.now()
    if (left <= 0 || signal?.aborted) return
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const t = setTimeout(done, Math.min(left, 1000))
      signal?.addEventListener('abort', done, { once: true })
    })
  }
}
