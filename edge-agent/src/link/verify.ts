import { verify } from 'node:crypto'
import type { CommandMessage, DesiredStateMessage } from '@loa/shared'
import { envelopeBytes, type PublicKeyInfo } from '@loa/shared/signing'
import { type Clock, systemClock } from '../clock/clock.js'
import { AgentError } from '../errors.js'
import type { Db } from '../storage/db.js'
import { Keyring } from './keyring.js'

/**
 * The longest a command may stay valid after it was sent: a live relay may start 7 days ahead and last 7 days,
 * and its live-start's deadline is its end. Command ids are remembered for 30 days (link/commands.ts), longer than this
 * window, so a replay inside it is caught as a duplicate and a replay after it as expired.
 */
export const MAX_DEADLINE_AHEAD_MS = 15 * 86_400_000

/** Something worth telling the control plane about, besides refusals (which throw). */
export interface VerifyNotice {
  kind: 'signing-key-changed'
  message: string
  data: Record<string, unknown>
}

/**
 * Checks every command and desired state before it is used: signed by the control plane's key (pinned at
 * provisioning, or reached through a rotation chain), not tampered, not expired, not absurdly long-lived, and not
 * older than what the box already holds. Refusals throw an AgentError whose code the agent reports upward.
 *
 * A Pi has no real-time clock: until NTP has run its clock may be hours or weeks behind. Every signed `sentAt`
 * the box accepts is a time the control plane vouches for, so the newest one raises the clock's floor (clock/clock.ts,
 * persisted, advanced by monotonic time): a command whose deadline is before it is refused as expired whatever the
 * local clock says. Deadlines are bounded relative to the command's own signed `sentAt`, not to the local clock,
 * so a box whose clock is behind still accepts a fresh emergency alert.
 */
export class MessageVerifier {
  private readonly keyring: Keyring | null

  constructor(
    db: Db,
    pinned: PublicKeyInfo | null,
    private readonly onNotice: (n: VerifyNotice) => void = () => {},
    private readonly clock: Clock = systemClock,
  ) {
    this.keyring = pinned ? new Keyring(db, pinned) : null
  }

  /** The trusted key id (null: insecure mode, nothing is checked). */
  get keyId(): string | null {
    return this.keyring?.keyId ?? null
  }

  /** Now, as far as this box can tell: never earlier than the newest time the control plane signed. */
  now(): number {
    return this.clock.now()
  }

  checkCommand(msg: CommandMessage): void {
    if (!this.keyring) return
    const sentAt = Date.parse(msg.sentAt)
    const deadline = Date.parse(msg.body.deadline)
    this.checkSignature(msg)
    if (deadline - sentAt > MAX_DEADLINE_AHEAD_MS) {
      throw new AgentError('LOA_CMD_DEADLINE_FAR', [
        `deadline ${msg.body.deadline} is more than ${MAX_DEADLINE_AHEAD_MS / 86_400_000} days after sentAt`,
      ])
    }
    // Past a vouched-for time while the local clock still says it is valid: the clock is behind.
    const floor = this.clock.floorNow()
    if (floor !== null && deadline < floor && deadline >= this.clock.wall()) {
      throw new AgentError('LOA_CMD_EXPIRED', [
        `deadline ${msg.body.deadline} is before ${new Date(floor).toISOString()}, a time already vouched for`,
      ])
    }
    this.clock.vouch(sentAt)
  }

  /** `heldVersion`: the newest desired state this box holds; an older one is a replay. */
  checkDesired(msg: DesiredStateMessage, heldVersion: number | null): void {
    if (!this.keyring) return
    this.checkSignature(msg)
    if (heldVersion !== null && msg.body.version < heldVersion) {
      throw new AgentError('LOA_DESIRED_REPLAY', [
        `version ${msg.body.version} is older than held ${heldVersion}`,
      ])
    }
    this.clock.vouch(Date.parse(msg.sentAt))
  }

  private checkSignature(msg: CommandMessage | DesiredStateMessage): void {
    const keyring = this.keyring as Keyring
    const sig = msg.sig
    if (!sig) throw new AgentError('LOA_SIG_MISSING', ['unsigned'])
    const found = keyring.lookup(sig.keyId, sig.chain)
    if (!found.ok) {
      throw found.reason === 'forged-link'
        ? new AgentError('LOA_SIG_CHAIN', [
            `a key link towards ${sig.keyId} is not signed by its predecessor`,
          ])
        : new AgentError('LOA_SIG_UNKNOWN_KEY', [
            `key ${sig.keyId} is not trusted (trusted: ${keyring.keyId})`,
          ])
    }
    let good = false
    try {
      good = verify(null, envelopeBytes(msg), found.key, Buffer.from(sig.value, 'base64'))
    } catch {
      good = false
    }
    if (!good)
      throw new AgentError('LOA_SIG_INVALID', [`signature by ${sig.keyId} does not match the content`])
    if (found.advanced && found.info) {
      const previous = keyring.keyId
      keyring.advance(found.info)
      this.onNotice({
        kind: 'signing-key-changed',
        message: `control plane signing key ${previous} → ${found.info.keyId}`,
        data: { previousKeyId: previous, keyId: found.info.keyId },
      })
    }
  }
}
