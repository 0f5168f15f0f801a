import {
  type CommandBody,
  encodeMessage,
  MAX_RECIPIENTS_PER_MESSAGE,
  type Recipients,
  serializeMessage,
  type UnaddressedCommandBody,
} from '@loa/shared'
import type { Publish } from '../alerts/dispatch.js'

/** Signs an envelope (devices/signing-keys.ts); absent only in tests that run without device security. */
export type SignEnvelope = <M extends Record<string, unknown>>(msg: M) => M

/**
 * The one place a command gets its recipients: they go into the body, so into the signed bytes, and a box refuses a
 * command that names neither its device id nor one of its units (docs/security.md). Every command the control plane
 * publishes is made here.
 */
export function commandPayload(
  body: UnaddressedCommandBody,
  recipients: Recipients,
  sign?: SignEnvelope,
): Buffer {
  const msg = encodeMessage('cmd', 'control-plane', { ...body, recipients } as CommandBody)
  return serializeMessage('cmd', sign ? sign(msg) : msg)
}

/**
 * A command for many units and devices, as messages of at most MAX_RECIPIENTS_PER_MESSAGE recipients each (same
 * `commandId`, one envelope each), every message published only on the topics of its own recipients: the topic's
 * own id is always among the recipients of the payload it carries.
 */
export function addressedPublishes(
  body: UnaddressedCommandBody,
  to: { units: readonly string[]; devices: readonly string[] },
  topicOf: { unit(id: string): string; device(id: string): string },
  sign?: SignEnvelope,
): Publish[] {
  const out: Publish[] = []
  const add = (ids: readonly string[], kind: 'units' | 'devices') => {
    for (let i = 0; i < ids.length; i += MAX_RECIPIENTS_PER_MESSAGE) {
      const chunk = ids.slice(i, i + MAX_RECIPIENTS_PER_MESSAGE)
      const recipients: Recipients =
        kind === 'units' ? { devices: [], units: chunk } : { devices: chunk, units: [] }
      const payload = commandPayload(body, recipients, sign)
      for (const id of chunk)
        out.push({ topic: kind === 'units' ? topicOf.unit(id) : topicOf.device(id), payload })
    }
  }
  add(to.units, 'units')
  add(to.devices, 'devices')
  return out
}
