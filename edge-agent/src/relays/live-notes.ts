import type { AckStage } from '@loa/shared'
import type { Clock } from '../clock/clock.js'
import type { Outbox } from '../link/outbox.js'
import { iso } from '../playback/item-player.js'
import type { Session } from './live-session.js'

/** What the live relays tell the control plane: acks of the command that started one, and events about a session. */
export class LiveNotes {
  constructor(
    private readonly outbox: Outbox,
    private readonly clock: Clock,
  ) {}

  /** Acks `ackId` (none for a recurring relay's occurrence, ackId null). */
  ack(ackId: string | null, stage: AckStage, reason?: string): void {
    if (!ackId) return
    this.outbox.enqueue('ack', {
      commandId: ackId,
      stage,
      at: iso(this.clock.now()),
      ...(reason ? { reason: reason.slice(0, 1000) } : {}),
    })
  }

  event(s: Session, kind: string, severity: 'info' | 'warning', message: string, extra = {}): void {
    this.outbox.event(kind, severity, message.slice(0, 2000), {
      liveId: s.scheduleId,
      revision: s.revision,
      occurrence: s.occurrence,
      sourceUrl: s.sourceUrl,
      ...extra,
    })
  }
}
