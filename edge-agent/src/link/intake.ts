import { decodeMessage, ProtocolError, type TopicTree } from '@loa/shared'
import type { Logger } from 'pino'
import type { AlertManager } from '../alerts/alerts.js'
import type { Clock } from '../clock/clock.js'
import { monotonicMs } from '../clock/clock.js'
import type { DesiredGate } from '../desired/gate.js'
import type { Reconciler } from '../desired/reconciler.js'
import type { DesiredStore } from '../desired/store.js'
import { AgentError, describeError } from '../errors.js'
import type { LiveManager } from '../relays/live.js'
import type { Scheduler } from '../schedule/scheduler.js'
import { isDiskFull, type StorageGuard } from '../storage/guard.js'
import type { Commands } from './commands.js'
import type { MqttLink } from './mqtt.js'
import type { Outbox } from './outbox.js'
import { checkRecipients } from './recipients.js'
import { RejectLimiter } from './reject-limiter.js'
import type { MessageVerifier } from './verify.js'

/** What the intake hands messages to: the agent's parts, each used for one thing. */
export interface MessageIntakeParts {
  deviceId: string
  tree: TopicTree
  clock: Clock
  log: Logger
  outbox: Outbox
  verifier: MessageVerifier
  store: DesiredStore
  desiredGate: DesiredGate
  reconciler: Reconciler
  link: MqttLink
  scheduler: Scheduler
  alerts: AlertManager
  lives: LiveManager
  commands: Commands
  storage: StorageGuard
  /** A message whose handling failed on a full disk is kept and handled again when there is room. */
  retryOnFullDisk: (topic: string, payload: Buffer, err: unknown) => boolean
}

/**
 * Every message that comes down to the box: topic check, the cheap drops (a stale desired state, a command for
 * someone else), decoding and verification, then dispatch. Refusals become `message-rejected` events, at most 10
 * a minute per code so a flood of one reason never hides another. Never throws.
 */
export class MessageIntake {
  /** When the province last sent anything (a receipt, a command, a state), for the technician's page. */
  lastContactAt: number | null = null
  private readonly rejects = new RejectLimiter(10, 60_000, 256, monotonicMs)

  constructor(private readonly p: MessageIntakeParts) {}

  receive(topic: string, payload: Buffer): void {
    try {
      this.handle(topic, payload)
    } catch (err) {
      if (this.p.retryOnFullDisk(topic, payload, err)) return
      // Reporting the refusal failed too (a damaged database): nothing else can be done with it here.
      this.p.log.error({ err, topic }, 'message handling failed')
      this.p.storage.handle(err)
    }
  }

  /** One message; a full disk throws (receive retries it later), everything else is handled or reported. */
  handle(topic: string, payload: Buffer): void {
    const p = this.p
    const parsed = p.tree.parse(topic)
    const mine =
      parsed && ((parsed.kind === 'device' && parsed.deviceId === p.deviceId) || parsed.kind === 'unit')
    if (!parsed || !mine || !['desired', 'cmd', 'receipt'].includes(parsed.channel)) {
      this.reject(topic, 'LOA_MSG_TOPIC', ['not a down channel of this device'])
      return
    }
    this.lastContactAt = p.clock.now()
    // A zero-length payload is how a retained message is cleared: nothing to do.
    if (payload.length === 0) return
    let messageId: string | undefined
    try {
      if (parsed.channel === 'desired') {
        if (p.desiredGate.stale(payload)) return
        const msg = decodeMessage('desired', payload)
        messageId = msg.id
        p.verifier.checkDesired(msg, p.store.received()?.version ?? null)
        if (msg.body.deviceId !== p.deviceId) {
          throw new AgentError('LOA_DESIRED_WRONG_DEVICE', [`deviceId ${msg.body.deviceId}`])
        }
        const stored = p.reconciler.accept(msg.body) === 'stored'
        if (stored) {
          p.link.setUnits(msg.body.units)
          p.scheduler.desiredChanged()
          p.lives.reconcile(msg.body)
          // Tell the control plane at once that this version arrived, so it does not re-publish it while the
          // media are still downloading.
          void p.reconciler.enqueueReportedState().catch(() => {})
        }
        // Even from a state not newer than held: alerts are de-duplicated by id and revision, and joining one
        // late is better than missing it.
        p.alerts.sync(msg.body.alerts ?? [])
        p.lives.sync(msg.body)
      } else if (parsed.channel === 'cmd') {
        const msg = decodeMessage('cmd', payload)
        messageId = msg.id
        // Addressing first: a flood of commands captured elsewhere costs no signature check (and the signature
        // covers the recipients, so a forged addressee still fails below).
        checkRecipients(msg.body, p.deviceId, p.store.received()?.body.units ?? [])
        p.verifier.checkCommand(msg)
        void p.commands.handle(msg.body, topic).catch((err) => p.log.error({ err }, 'command failed'))
      } else {
        const msg = decodeMessage('receipt', payload)
        const n = p.outbox.receipt(msg.body.ids)
        p.log.debug({ ids: msg.body.ids.length, removed: n }, 'receipt')
      }
    } catch (err) {
      if (err instanceof ProtocolError || err instanceof AgentError) {
        this.reject(topic, err.code, err.details, messageId)
        return
      }
      // A full disk: handled (and retried) by receive.
      if (isDiskFull(err)) throw err
      if (p.storage.handle(err)) return
      const { code, details } = describeError(err)
      this.reject(topic, code, details)
    }
  }

  private reject(topic: string, code: string, details: string[], messageId?: string): void {
    const admitted = this.rejects.admit(code)
    if (!admitted) return
    this.p.log.warn({ topic, code, details, messageId }, 'message rejected')
    this.p.outbox.event('message-rejected', 'warning', `message on ${topic} rejected: ${code}`, {
      topic,
      code,
      details: details.slice(0, 5).map((d) => d.slice(0, 300)),
      ...(messageId ? { messageId } : {}),
      ...(admitted.suppressed > 0 ? { suppressedBefore: admitted.suppressed } : {}),
    })
  }
}
