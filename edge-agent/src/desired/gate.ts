import { CHANNEL_MESSAGES, peekDesiredVersion } from '@loa/shared'
import type { Outbox } from '../link/outbox.js'

const SUMMARY_EVERY_MS = 10 * 60_000

/**
 * The first look at a desired state: one not newer than the state held, read from its first bytes
 * (peekDesiredVersion), is dropped before it is parsed, validated or its signature checked, and only counted (one
 * `desired-stale` event every ten minutes at most). One too large to accept is not stale: it goes on, to be
 * refused as too large (that reason must reach the control plane).
 */
export class DesiredGate {
  /** Desired states dropped unparsed (the technician's page shows it). */
  dropped = 0
  private reported = { at: Number.NEGATIVE_INFINITY, count: 0 }

  constructor(
    private readonly outbox: Outbox,
    private readonly heldVersion: () => number | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** True: drop this payload. */
  stale(payload: Buffer): boolean {
    if (payload.length > CHANNEL_MESSAGES.desired.maxBytes) return false
    const held = this.heldVersion()
    const version = peekDesiredVersion(payload)
    if (held === undefined || version === null || version > held) return false
    this.dropped++
    const t = this.now()
    if (t - this.reported.at >= SUMMARY_EVERY_MS) {
      const count = this.dropped - this.reported.count
      this.outbox.event(
        'desired-stale',
        'info',
        `${count} desired state(s) not newer than v${held} dropped`,
        {
          count,
          heldVersion: held,
          lastVersion: version,
        },
      )
      this.reported = { at: t, count: this.dropped }
    }
    return true
  }
}
