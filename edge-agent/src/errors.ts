/**
 * Every agent error has a stable code so logs, events and tests can match on it (protocol errors keep the
 * LOA_MSG_* codes from @loa/shared).
 */
export const AgentErrorCodes = {
  LOA_CONFIG_INVALID: 'invalid configuration',
  LOA_DESIRED_WRONG_DEVICE: 'desired state is addressed to another device',
  LOA_DOWNLOAD_HTTP: 'media server answered with an error status',
  LOA_DOWNLOAD_NETWORK: 'media download failed on the network',
  LOA_DOWNLOAD_SIZE: 'downloaded media has the wrong size',
  LOA_DOWNLOAD_HASH: 'downloaded media has the wrong sha256',
  LOA_MEDIA_NOT_READY: 'media is not in the cache',
  LOA_MEDIA_CORRUPT: 'cached media failed verification',
  LOA_PLAYER_FAILED: 'ffmpeg failed to play the item',
  LOA_ALERT_MEDIA: 'media of an alert could not be fetched',
  LOA_LIVE_CONNECT: 'a live source could not be opened',
  LOA_LIVE_DROPPED: 'a live source stopped sending audio',
  LOA_LIVE_OUTPUT: 'the audio output of a live relay failed',
  LOA_TOPIC_UNKNOWN: 'message arrived on a topic the agent does not handle',
  LOA_LOCAL_AUDIO_INVALID: 'the uploaded or recorded audio cannot be used',
  LOA_LOCAL_UNAUTHORIZED: 'log in to the technician page first',
  LOA_LOCAL_WRONG_PASSWORD: 'wrong technician password',
  LOA_LOCAL_LOCKED: 'too many wrong passwords: locked for a while',
  LOA_LOCAL_NO_PASSWORD: 'no technician password is set on this box',
  LOA_LOCAL_BAD_REQUEST: 'the request is not valid',
  LOA_LOCAL_NOT_FOUND: 'no such action',
  LOA_LOCAL_FORBIDDEN: 'request from another site refused',
  LOA_LOCAL_TOO_LARGE: 'the upload is too large',
  LOA_LOCAL_BUSY: 'too many local actions are waiting',
  LOA_LOCAL_TIMEOUT: 'the request arrived too slowly and was cut',
  LOA_AGENT_ZONE_UNKNOWN: 'no such zone',
  // LOA_RELAY_*: error codes on the wire (a contract); they mean the amplifier switch.
  LOA_RELAY_CHIP: 'GPIO chip or line not found',
  LOA_RELAY_SWITCH: 'a relay line could not be switched',
  LOA_AUDIO_CARD: 'the sound card is missing or busy',
  LOA_MODEM_TIMEOUT: 'the modem did not answer in time',
  LOA_MODEM_ERROR: 'the modem answered with an error',
  LOA_MODEM_CLOSED: 'the modem port is closed',
  LOA_SIG_MISSING: 'unsigned command or desired state refused',
  LOA_SIG_UNKNOWN_KEY: 'signed by a key this box does not trust',
  LOA_SIG_CHAIN: 'a signing-key link is forged',
  LOA_SIG_INVALID: 'signature does not match the content (forged or tampered)',
  LOA_CMD_DEADLINE_FAR: 'command deadline absurdly far in the future',
  LOA_CMD_EXPIRED: 'command expired before a time the control plane already vouched for (replay)',
  LOA_DESIRED_REPLAY: 'desired state older than the one held (replay)',
  LOA_CMD_NOT_FOR_ME: 'command is addressed neither to this device nor to one of its units',
} as const
export type AgentErrorCode = keyof typeof AgentErrorCodes

export class AgentError extends Error {
  readonly code: AgentErrorCode
  readonly details: string[]
  constructor(code: AgentErrorCode, details: string[] = []) {
    const head = AgentErrorCodes[code]
    super(details.length > 0 ? `${head}: ${details.join('; ')}` : head)
    this.name = 'AgentError'
    this.code = code
    this.details = details
  }
}

/** Code and details of any thrown value, for events. */
export function describeError(err: unknown): { code: string; details: string[] } {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') {
    const details = 'details' in err && Array.isArray(err.details) ? (err.details as string[]) : [err.message]
    return { code: err.code, details }
  }
  return { code: 'LOA_INTERNAL', details: [err instanceof Error ? err.message : String(err)] }
}
