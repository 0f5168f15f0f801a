import { randomUUID } from 'node:crypto'
import type { TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors'
import { ProtocolError } from './errors.js'
import { type BodyFor, CHANNEL_MESSAGES, type MessageFor } from './messages/index.js'
import type { DeviceChannel } from './topics.js'
import { PROTOCOL_VERSION } from './version.js'

const compiled = new Map<DeviceChannel, TypeCheck<TSchema>>()
function checker(channel: DeviceChannel): TypeCheck<TSchema> {
  let c = compiled.get(channel)
  if (!c) {
    c = TypeCompiler.Compile(CHANNEL_MESSAGES[channel].schema)
    compiled.set(channel, c)
  }
  return c
}

/** Builds the envelope for a body. `id` is given when re-sending an outbox entry, so receivers can de-duplicate. */
export function encodeMessage<C extends DeviceChannel>(
  channel: C,
  from: string,
  body: BodyFor<C>,
  opts: { id?: string; sentAt?: Date } = {},
): MessageFor<C> {
  return {
    v: PROTOCOL_VERSION,
    type: CHANNEL_MESSAGES[channel].type,
    id: opts.id ?? randomUUID(),
    from,
    sentAt: (opts.sentAt ?? new Date()).toISOString(),
    body,
  } as MessageFor<C>
}

export function serializeMessage<C extends DeviceChannel>(channel: C, message: MessageFor<C>): Buffer {
  const buf = Buffer.from(JSON.stringify(message), 'utf8')
  if (buf.length > CHANNEL_MESSAGES[channel].maxBytes) {
    throw new ProtocolError('LOA_MSG_TOO_LARGE', [
      `${buf.length} bytes > ${CHANNEL_MESSAGES[channel].maxBytes}`,
    ])
  }
  return buf
}

const MAX_DETAILS = 5

const depth = (e: ValueError) => e.path.split('/').length

/**
 * Turns a schema error into field-naming details. A union's own error only says "Expected union value", so descend
 * into the variant that matched best (deepest first error, then fewest errors) and report that variant's errors.
 */
function explain(e: ValueError, out: string[]): void {
  if (out.length >= MAX_DETAILS) return
  if (e.type === ValueErrorType.Union && e.errors.length > 0) {
    let best: ValueError[] | null = null
    let bestDepth = -1
    for (const variant of e.errors) {
      const list = [...variant]
      if (list.length === 0) continue
      const d = Math.max(...list.map(depth))
      if (d > bestDepth || (d === bestDepth && best !== null && list.length < best.length)) {
        best = list
        bestDepth = d
      }
    }
    if (best && bestDepth > depth(e)) {
      for (const x of best) explain(x, out)
      return
    }
  }
  out.push(`${e.path || '/'}: ${e.message}`)
}

/**
 * Validates a received payload for a channel and returns the typed message, or throws a ProtocolError whose
 * details name the offending fields. Order of checks: size, JSON, version, type, schema.
 */
export function decodeMessage<C extends DeviceChannel>(channel: C, payload: Buffer | string): MessageFor<C> {
  const spec = CHANNEL_MESSAGES[channel]
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  if (size > spec.maxBytes) throw new ProtocolError('LOA_MSG_TOO_LARGE', [`${size} bytes > ${spec.maxBytes}`])
  let data: unknown
  try {
    const text =
      typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload)
    data = JSON.parse(text)
  } catch (err) {
    throw new ProtocolError('LOA_MSG_NOT_JSON', [(err as Error).message])
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ProtocolError('LOA_MSG_NOT_JSON', ['payload is not a JSON object'])
  }
  const record = data as Record<string, unknown>
  if (record.v !== PROTOCOL_VERSION) {
    throw new ProtocolError('LOA_MSG_VERSION', [
      `got v=${JSON.stringify(record.v)}, this side speaks v=${PROTOCOL_VERSION}`,
    ])
  }
  if (record.type !== spec.type) {
    throw new ProtocolError('LOA_MSG_TYPE', [
      `got type=${JSON.stringify(record.type)} on "${channel}", expected "${spec.type}"`,
    ])
  }
  const check = checker(channel)
  if (!check.Check(data)) {
    const details: string[] = []
    for (const e of check.Errors(data)) {
      explain(e, details)
      if (details.length >= MAX_DETAILS) break
    }
    throw new ProtocolError('LOA_MSG_INVALID', details)
  }
  return data as MessageFor<C>
}
