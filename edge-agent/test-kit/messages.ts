// Test-only messages as the control plane sends them (signed with the test key) and bodies the tests reuse.
import {
  type AlertSpec,
  Bands,
  type BodyFor,
  type CommandBody,
  type DesiredStateBody,
  encodeMessage,
  type MediaRef,
  type MessageFor,
  type PlayReportBody,
  topicTree,
  type UnaddressedCommandBody,
} from '@loa/shared'
import { generateSigningKey, type Signer, signEnvelope, signerFromPem } from '@loa/shared/signing'

/** The test control plane's signing key: agents built by these helpers pin it (docs/security.md). */
export const TEST_SIGNER: Signer = signerFromPem(generateSigningKey().privateKeyPem)
export const TEST_KEY = { keyId: TEST_SIGNER.keyId, publicKey: TEST_SIGNER.publicKey }

/** A command or desired state as the control plane sends it: encoded and signed with the test key. */
export function signed<C extends 'cmd' | 'desired'>(
  channel: C,
  body: BodyFor<C>,
  opts: { from?: string; signer?: Signer; sentAt?: Date } = {},
): MessageFor<C> {
  const msg = encodeMessage(
    channel,
    opts.from ?? 'control-plane',
    body,
    opts.sentAt ? { sentAt: opts.sentAt } : {},
  )
  return signEnvelope(msg, opts.signer ?? TEST_SIGNER)
}

/**
 * A command addressed as the control plane addresses it: to the device or the unit whose `cmd` topic it is sent
 * on (the recipients are part of the signed body; a box refuses a command not addressed to it).
 */
export function addressedTo(topic: string, body: UnaddressedCommandBody): CommandBody {
  const parsed = topicTree('loa').parse(topic)
  if (parsed?.channel !== 'cmd') throw new Error(`not a command topic: ${topic}`)
  const recipients =
    parsed.kind === 'unit'
      ? { devices: [], units: [parsed.unitId] }
      : { devices: [parsed.deviceId], units: [] }
  return { ...body, recipients } as CommandBody
}

/** A minimal desired state for device `pi-d` holding `media`. */
export function desired(
  version: number,
  media: { sha256: string; size: number; url: string }[],
): DesiredStateBody {
  return {
    deviceId: 'pi-d',
    version,
    generatedAt: '2026-01-01T00:00:00Z',
    timezone: 'Asia/Ho_Chi_Minh',
    units: [],
    volume: 100,
    schedule: [],
    fallback: null,
    media: media.map((m) => ({ ...m, mime: 'audio/ogg', durationMs: 1000 })),
  }
}

/** A play report of schedule `s-1` (played, no times), with `over` on top. */
export function playReport(over: Partial<PlayReportBody> = {}): PlayReportBody {
  return {
    scheduleId: 's-1',
    title: 'Tin sáng',
    sha256: 'a'.repeat(64),
    level: 'normal',
    priority: 50,
    fallback: false,
    occurrence: '2026-03-01T00:00:00.000Z',
    status: 'played',
    relayOnAt: null,
    startedAt: null,
    endedAt: null,
    relayOffAt: null,
    durationMs: 0,
    ...over,
  }
}

let alertSeq = 0

/** An audible emergency alert of `items`, started a second ago, expiring in ten minutes. */
export function testAlert(items: MediaRef[], over: Partial<AlertSpec> = {}): AlertSpec {
  const n = `${++alertSeq}-${Date.now().toString(36)}`
  return {
    alertId: `al-${n}`,
    revision: 1,
    ackId: `ack-${n}`,
    title: 'flood warning',
    level: 'emergency',
    priority: Bands.emergency,
    items,
    repeat: 1,
    startsAt: new Date(Date.now() - 1000).toISOString(),
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
    audible: true,
    ...over,
  }
}
