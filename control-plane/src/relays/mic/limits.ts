// Kept apart from sessions.ts so config.ts can name the limits without loading the session machinery.

/** Limits of microphone sessions (docs/console-content.md, "Speaking from the microphone"). */
export interface MicLimits {
  /** Sessions at once across the control plane (each is one ffmpeg and N agents pulling). */
  maxSessions: number
  /** A session ends by itself after this long. */
  maxDurationS: number
  /** No audio from the browser this long: the session ends (a phone that lost its network, a closed lid). */
  idleMs: number
  /** Input audio may arrive at most this fast on average (bytes/s; MediaRecorder's Opus is ~4–16 KB/s). */
  maxBytesPerS: number
  /** The largest single WebSocket message (one MediaRecorder chunk). */
  maxChunkBytes: number
  /** Input this large with no MP3 out of ffmpeg yet: it is not audio ffmpeg understands. */
  maxBytesBeforeOutput: number
  /** Input arriving this long with no MP3 out of ffmpeg yet: it is not audio ffmpeg understands. */
  noOutputMs: number
  /** HTTP listeners per session (clusters pulling the stream). */
  maxListeners: number
  /** MP3 bitrate of the stream the agents pull. */
  bitrateKbps: number
}

export const DEFAULT_MIC_LIMITS: MicLimits = {
  maxSessions: 4,
  maxDurationS: 2 * 3600,
  idleMs: 10_000,
  maxBytesPerS: 32 * 1024,
  maxChunkBytes: 256 * 1024,
  maxBytesBeforeOutput: 512 * 1024,
  noOutputMs: 5000,
  maxListeners: 2000,
  bitrateKbps: 48,
}
