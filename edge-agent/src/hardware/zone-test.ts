import { join } from 'node:path'
import { type AckStage, Bands, type TestSpec } from '@loa/shared'
import { type Clock, systemClock } from '../clock/clock.js'
import { AgentError } from '../errors.js'
import type { Outbox } from '../link/outbox.js'
import { MAX_DEADLINE_AHEAD_MS } from '../link/verify.js'
import { toneFile } from '../technician/audio.js'
import type { LocalAction, LocalPlays } from '../technician/plays.js'
import type { BoxControls } from './box-controls.js'

export const DEFAULT_TONE_HZ = 1000

/**
 * A tone on one zone, or on every zone in turn, at the `test` band. The technician's page and the province's
 * `test` command both come here, so a test is arbitrated, switched and reported the same way whoever asked.
 */
export class ZoneTests {
  constructor(
    private readonly o: {
      plays: LocalPlays
      controls: () => BoxControls
      outbox: Outbox
      dataDir: string
      clock?: Clock
    },
  ) {}

  /** Queues the tone(s); throws LOA_AGENT_ZONE_UNKNOWN before anything is queued. */
  async start(
    spec: TestSpec,
    by: string,
    commandId?: string,
    onStart?: () => void,
    startWithinMs?: number,
  ): Promise<{ actions: LocalAction[]; done: Promise<LocalAction[]> }> {
    const zones = this.o.controls().zones()
    const chosen = spec.zone === undefined ? zones : zones.filter((z) => z.id === spec.zone)
    if (chosen.length === 0) throw new AgentError('LOA_AGENT_ZONE_UNKNOWN', [`zone ${spec.zone ?? '(any)'}`])
    const hz = spec.frequencyHz ?? DEFAULT_TONE_HZ
    const tone = await toneFile(join(this.o.dataDir, 'local'), hz, spec.seconds)
    let started = false
    const queued = chosen.map((z, i) =>
      this.o.plays.request(
        {
          kind: 'tone',
          zone: z.id,
          by,
          ...(commandId ? { commandId } : {}),
          title: `Thử loa ${z.label} (${hz} Hz)`.slice(0, 200),
          priority: Bands.test,
          seconds: spec.seconds,
          audio: tone,
          orderMs: i,
          ...(startWithinMs !== undefined ? { startWithinMs } : {}),
        },
        () => {
          if (started) return
          started = true
          onStart?.()
        },
      ),
    )
    return { actions: queued.map((q) => q.action), done: Promise.all(queued.map((q) => q.done)) }
  }

  /**
   * The province's `test` command: acks `playing` on the first tone, then the final stage is returned. A tone that
   * has not started by the command's deadline (a higher or equal band holds the amplifier) is not played.
   */
  async command(
    spec: TestSpec,
    commandId: string,
    deadline?: string,
  ): Promise<{ stage: AckStage; reason?: string }> {
    const clock = this.o.clock ?? systemClock
    const playing = () =>
      this.o.outbox.enqueue('ack', { commandId, stage: 'playing', at: new Date(clock.now()).toISOString() })
    // Measured from a time certainly passed: a clock that may be ahead does not shorten the window to nothing
    // (bounded like deadlines, so no timer overflows when nothing is known of the time yet).
    const within = deadline
      ? Math.min(MAX_DEADLINE_AHEAD_MS, Math.max(0, Date.parse(deadline) - clock.lowerBound()))
      : undefined
    const { done } = await this.start(spec, 'province', commandId, playing, within)
    const results = await done
    const bad = results.filter((a) => a.status !== 'done')
    if (bad.length === 0) return { stage: 'done' }
    if (bad.every((a) => a.status === 'expired')) return { stage: 'expired', reason: bad[0]?.reason }
    const reason = bad.map((a) => `${a.zone}: ${a.status}${a.reason ? ` (${a.reason})` : ''}`).join('; ')
    return { stage: 'failed', reason: reason.slice(0, 1000) }
  }
}
