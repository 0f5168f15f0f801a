/** Stored, normalised audio. */

export interface Loudness {
  inputI: number
  inputTp: number
  inputLra: number
  targetI: number
}

export interface Media {
  sha256: string
  size: number
  durationMs: number
  mime: string
  codec: string
  bitrateKbps: number
  loudness: Loudness
  originalName: string
  createdAt: string
}
