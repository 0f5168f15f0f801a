// Test-only time sources (like test-kit/gpio-fakes.ts): a wall clock that can be stepped while monotonic time runs on.
import { performance } from 'node:perf_hooks'
import type { TimeSource } from '../src/clock/clock.js'

/**
 * The real clocks, with the wall shifted by `offsetMs`: `step()` is what NTP (or a person) does to the system clock,
 * in-process and without waiting. Monotonic time is the real one, as on a box.
 */
export class SteppedTime implements TimeSource {
  constructor(public offsetMs = 0) {}
  wall(): number {
    return Date.now() + this.offsetMs
  }
  mono(): number {
    return performance.now()
  }
  step(ms: number): void {
    this.offsetMs += ms
  }
}

/** Both clocks under the test's control: `advance()` moves both (time passing), `step()` only the wall. */
export class ManualTime implements TimeSource {
  constructor(
    public wallMs: number,
    public monoMs = 1_000_000,
  ) {}
  wall(): number {
    return this.wallMs
  }
  mono(): number {
    return this.monoMs
  }
  advance(ms: number): void {
    this.wallMs += ms
    this.monoMs += ms
  }
  step(ms: number): void {
    this.wallMs += ms
  }
}
