import type { Repositories } from '../../repositories.js'
import { LoaError } from '../../server/errors.js'
import type { Alert } from '../model.js'
import type { CapCancellation, CapLogEntry, CapOutcome } from './log.js'
import type { CapAlert, CapKey } from './parse.js'

/**
 * What a CAP message does to the alerts it concerns, decided from what was received before (cap_log) and what
 * Cancels named (cap_cancelled). The rules (docs/alerts.md, "Order, status and cancellation"):
 *
 * - A message only ever touches messages of its own `status`: a reference to a message of another status is a
 *   conflict, and what a Cancel names is remembered per status.
 * - A chain (an Alert, the Updates that reference it, a Cancel) is ordered by `sent`: a message older than the
 *   newest one already applied to its chain changes nothing.
 * - A Cancel ends the chains of the messages it names unless a newer message of the chain (not named by it) was
 *   applied; the messages it names are remembered, received or not: one arriving later never sounds, and ends the
 *   chain it would have changed.
 * - An Update sent no later than a Cancel of its chain (or an operator's cancel) never sounds; one sent after it
 *   starts a new alert, as an Update of an alert that is over always does.
 */
export interface CapPlan {
  act: 'raise' | 'revise' | 'none'
  /**
   * The alert of the message's chain: the one revised, the one the message is recorded against, or (an Update that
   * raises) the alert, over, that the new one takes the place of.
   */
  alert: Alert | null
  /** Active alerts the message ends (cancelled before anything else is done). */
  end: Alert[]
  /** The outcome recorded when `act` is 'none'. */
  outcome: CapOutcome
  /** What a Cancel names, to remember. */
  cancellations: CapCancellation[]
}

const keyOf = (k: CapKey): CapKey => ({ sender: k.sender, identifier: k.identifier, sent: k.sent })
const same = (a: CapKey, b: { sender: string; identifier: string }) =>
  a.sender === b.sender && a.identifier === b.identifier

/** The earlier copy of this message, if it was received already; a different message under its key is refused. */
export async function capDuplicate(repos: Repositories, cap: CapAlert): Promise<CapLogEntry | null> {
  const known = await repos.capLog.get(cap.sender, cap.identifier)
  if (known && (known.sent !== cap.sent || known.status !== cap.status)) {
    throw new LoaError(
      'LOA_CAP_CONFLICT',
      `alert/identifier: ${cap.identifier} from ${cap.sender} was already received as a ${known.status} message sent at ${known.sent}; an identifier names one message`,
    )
  }
  return known
}

interface Reference {
  key: CapKey
  entry: CapLogEntry | null
  cancellation: CapCancellation | null
}

async function references(repos: Repositories, cap: CapAlert): Promise<Reference[]> {
  const out: Reference[] = []
  for (const [i, key] of cap.references.entries()) {
    const entry = await repos.capLog.get(key.sender, key.identifier)
    const name = `alert/references/${i}: ${key.identifier} from ${key.sender}`
    if (entry && entry.status !== cap.status) {
      throw new LoaError(
        'LOA_CAP_CONFLICT',
        `${name} is a ${entry.status} message; a ${cap.status} message never touches it`,
      )
    }
    if (entry && entry.sent !== key.sent) {
      throw new LoaError('LOA_CAP_INVALID', `${name} was sent at ${entry.sent}, not ${key.sent}`)
    }
    out.push({
      key,
      entry,
      cancellation: await repos.capLog.cancellation(key.sender, key.identifier, cap.status),
    })
  }
  return out
}

async function chainsOf(repos: Repositories, refs: Reference[]): Promise<Alert[]> {
  const ids = [...new Set(refs.map((r) => r.entry?.alertId).filter((id): id is string => !!id))]
  const alerts = await Promise.all(ids.map((id) => repos.alerts.get(id)))
  return alerts.filter((a): a is Alert => a !== null)
}

/** Whether a Cancel sent at `sent` naming `named` reaches this chain: nothing newer it does not name was applied. */
async function cancelReaches(
  repos: Repositories,
  chain: Alert,
  sent: string,
  named: CapKey[],
): Promise<boolean> {
  const newest = await repos.capLog.newest(chain.id)
  return !newest || sent >= newest.sent || named.some((k) => same(k, newest))
}

const none = (outcome: CapOutcome, alert: Alert | null, end: Alert[] = []): CapPlan => ({
  act: 'none',
  alert,
  end,
  outcome,
  cancellations: [],
})

/** Decides what the message does; `capDuplicate` has been checked. Reads only: the caller applies the plan. */
export async function planCap(repos: Repositories, cap: CapAlert): Promise<CapPlan> {
  const refs = await references(repos, cap)
  const chains = await chainsOf(repos, refs)
  if (cap.msgType === 'Cancel') {
    const end: Alert[] = []
    let newer = false
    for (const chain of chains) {
      if (chain.state !== 'active') continue
      if (await cancelReaches(repos, chain, cap.sent, cap.references)) end.push(chain)
      else newer = true
    }
    const outcome: CapOutcome =
      end.length > 0
        ? 'cancelled'
        : newer
          ? 'superseded'
          : refs.some((r) => r.entry)
            ? 'cancelled'
            : 'remembered'
    return {
      ...none(outcome, end[0] ?? chains[0] ?? null, end),
      cancellations: cap.references.map((k) => ({ ...keyOf(k), status: cap.status, by: keyOf(cap) })),
    }
  }

  const chain = chains.find((a) => a.state === 'active') ?? chains[0] ?? null
  const named = await repos.capLog.cancellation(cap.sender, cap.identifier, cap.status)
  if (named) {
    // Cancelled before it arrived: it never sounds, nor does what it would have replaced.
    const ends = chain?.state === 'active' && (await cancelReaches(repos, chain, named.by.sent, [cap]))
    return none('cancelled', chain, ends && chain ? [chain] : [])
  }
  if (cap.msgType === 'Alert') return { ...none('raised', null), act: 'raise' }

  const cancels = refs.map((r) => r.cancellation?.by.sent ?? null)
  if (chain) {
    const capCancel = await repos.capLog.cancelledAt(chain.id)
    // An operator's cancel (console or API) counts from when it was made.
    cancels.push(capCancel ?? (chain.state === 'cancelled' ? chain.updatedAt : null))
  }
  const lastCancel = cancels
    .filter((t): t is string => t !== null)
    .sort()
    .at(-1)
  if (lastCancel !== undefined && cap.sent <= lastCancel) return none('cancelled', chain)
  if (chain) {
    const newest = await repos.capLog.newest(chain.id)
    if (newest && cap.sent < newest.sent) return none('superseded', chain)
  }
  return { ...none('raised', chain), act: chain?.state === 'active' ? 'revise' : 'raise' }
}
