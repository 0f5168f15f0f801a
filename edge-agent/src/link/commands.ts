import type { AckStage, AlertSpec, CommandBody, LiveSpec, TestSpec } from '@loa/shared'
import type { Logger } from 'pino'
import { type Clock, systemClock } from '../clock/clock.js'
import type { Db } from '../storage/db.js'
import type { Outbox } from './outbox.js'

const SEEN_KEEP_MS = 30 * 86_400_000

/**
 * Runs commands from the device and unit command topics. Each command id runs at most once (table
 * `seen_commands`), even when it reaches the device through several units or is delivered again.
 */
export class Commands {
  constructor(
    private readonly db: Db,
    private readonly outbox: Outbox,
    private readonly log: Logger,
    private readonly actions: {
      resync: () => Promise<void>
      alert?: (alert: AlertSpec, topic: string, deadline: string) => void
      cancelAlert?: (alertId: string, topic: string) => void
      live?: (live: LiveSpec, topic: string, deadline: string) => void
      stopLive?: (liveId: string, topic: string) => void
      /** Runs a test tone to its end; `playing` is acked by it, the final stage returned here. */
      test?: (
        test: TestSpec,
        commandId: string,
        deadline: string,
      ) => Promise<{ stage: AckStage; reason?: string }>
      /** A deadline is past once the clock's lower bound is (a clock that may be ahead expires nothing early). */
      clock?: Clock
    },
  ) {}

  private get clock(): Clock {
    return this.actions.clock ?? systemClock
  }

  private ack(commandId: string, stage: AckStage, reason?: string): void {
    const at = new Date(this.clock.now()).toISOString()
    const body = { commandId, stage, at, ...(reason ? { reason } : {}) }
    this.outbox.enqueue('ack', body)
  }

  async handle(cmd: CommandBody, topic: string): Promise<void> {
    // An alert (or a live) is de-duplicated by id + revision and acknowledged under its ackId (the same one
    // reaches a device through several unit topics and its desired state), so it bypasses `seen_commands`.
    if (cmd.kind === 'alert' && this.actions.alert) {
      this.actions.alert(cmd.alert, topic, cmd.deadline)
      return
    }
    if (cmd.kind === 'live-start' && this.actions.live) {
      this.actions.live(cmd.live, topic, cmd.deadline)
      return
    }
    const now = new Date(this.clock.now())
    const seen = this.db.prepare('SELECT 1 FROM seen_commands WHERE command_id = ?').get(cmd.commandId)
    if (seen) {
      this.db.transaction(() => {
        this.ack(cmd.commandId, 'rejected', 'duplicate')
        this.outbox.event('command-rejected', 'info', `command ${cmd.commandId} already seen`, {
          commandId: cmd.commandId,
          kind: cmd.kind,
          reason: 'duplicate',
          topic,
        })
      })()
      return
    }
    const expired = Date.parse(cmd.deadline) < this.clock.lowerBound()
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO seen_commands (command_id, at) VALUES (?, ?)')
        .run(cmd.commandId, now.toISOString())
      this.db
        .prepare('DELETE FROM seen_commands WHERE at < ?')
        .run(new Date(now.getTime() - SEEN_KEEP_MS).toISOString())
      this.ack(cmd.commandId, expired ? 'expired' : 'received')
      if (expired) {
        this.outbox.event('command-rejected', 'info', `command ${cmd.commandId} arrived after its deadline`, {
          commandId: cmd.commandId,
          kind: cmd.kind,
          reason: 'expired',
          deadline: cmd.deadline,
          topic,
        })
      }
    })()
    if (expired) return
    this.log.info({ commandId: cmd.commandId, kind: cmd.kind }, 'command')
    try {
      if (cmd.kind === 'resync') await this.actions.resync()
      else if (cmd.kind === 'alert-cancel' && this.actions.cancelAlert) {
        this.actions.cancelAlert(cmd.alertId, topic)
      } else if (cmd.kind === 'live-stop' && this.actions.stopLive) this.actions.stopLive(cmd.liveId, topic)
      else if (cmd.kind === 'test' && this.actions.test) {
        const r = await this.actions.test(cmd.test, cmd.commandId, cmd.deadline)
        this.ack(cmd.commandId, r.stage, r.reason)
        return
      } else if (cmd.kind !== 'ping') {
        // A kind the protocol knows but this agent does not carry out yet: never acknowledge it as done.
        this.db.transaction(() => {
          this.ack(cmd.commandId, 'rejected', `unsupported: ${cmd.kind}`)
          this.outbox.event(
            'command-rejected',
            'warning',
            `command ${cmd.commandId}: ${cmd.kind} unsupported`,
            {
              commandId: cmd.commandId,
              kind: cmd.kind,
              reason: 'unsupported',
              topic,
            },
          )
        })()
        return
      }
      this.ack(cmd.commandId, 'done')
    } catch (err) {
      this.ack(cmd.commandId, 'failed', (err as Error).message.slice(0, 1000))
    }
  }
}
