/**
 * Every protocol error has a stable code (as Fastify does) so logs, events and tests can match on it.
 */
export const ProtocolErrorCodes = {
  LOA_MSG_TOO_LARGE: 'message is larger than the limit for its channel',
  LOA_MSG_NOT_JSON: 'message is not valid UTF-8 JSON',
  LOA_MSG_VERSION: 'unsupported protocol version',
  LOA_MSG_TYPE: 'message type does not match its channel',
  LOA_MSG_INVALID: 'message does not match its schema',
  LOA_MSG_TOPIC: 'topic is not part of the Loa topic tree',
  LOA_MSG_SENDER: 'message sender does not match its topic',
} as const
export type ProtocolErrorCode = keyof typeof ProtocolErrorCodes

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode
  readonly details: string[]
  constructor(code: ProtocolErrorCode, details: string[] = []) {
    const head = ProtocolErrorCodes[code]
    super(details.length > 0 ? `${head}: ${details.join('; ')}` : head)
    this.name = 'ProtocolError'
    this.code = code
    this.details = details
  }
}
