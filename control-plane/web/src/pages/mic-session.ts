import { useEffect, useRef, useState } from 'preact/hooks'
import type { Targets } from './content-types'

/** Opus in WebM: what Chromium and Firefox record, and what the control plane's ingest expects. */
export const MIC_MIME = 'audio/webm;codecs=opus'
/** MediaRecorder hands over a chunk this often: shorter adds overhead, longer adds latency. */
const TIMESLICE_MS = 250

/** Why this browser cannot speak live, or null if it can. */
export function micUnsupported(): 'insecure' | 'no-mic' | 'no-recorder' | null {
  if (!window.isSecureContext) return 'insecure'
  if (!navigator.mediaDevices?.getUserMedia) return 'no-mic'
  if (typeof MediaRecorder === 'undefined' || !MediaRecorder.isTypeSupported(MIC_MIME)) return 'no-recorder'
  return null
}

export type MicPhase = 'idle' | 'asking' | 'connecting' | 'live' | 'stopping'

export interface MicEnd {
  /** `stopped`, `idle`, `error`, … or `permission` / `connection` from the browser side. */
  reason: string
  code?: string
  message?: string
}

export interface MicState {
  phase: MicPhase
  liveId: string | null
  startedAt: number | null
  /** Input level 0–1 (peak of the last ~100 ms). */
  level: number
  /** How the last session ended (null while one runs or before any). */
  end: MicEnd | null
}

const IDLE: MicState = { phase: 'idle', liveId: null, startedAt: null, level: 0, end: null }

/**
 * One microphone session: getUserMedia (echo cancellation, noise suppression, gain control), a WebSocket to
 * `/api/live-mic` carrying MediaRecorder chunks, and an analyser for the level meter. Every way out releases the
 * microphone, the recorder, the audio context and the socket.
 */
export function useMicSession() {
  const [s, setS] = useState<MicState>(IDLE)
  const cleanup = useRef<(() => void) | null>(null)
  /** Asks the server to end the session (after the recorder's last chunk). */
  const requestStop = useRef<(() => void) | null>(null)

  const finish = (end: MicEnd) => {
    cleanup.current?.()
    cleanup.current = null
    requestStop.current = null
    setS({ ...IDLE, end })
  }

  useEffect(() => () => cleanup.current?.(), [])

  const start = async (req: { title: string; targets: Targets; priority?: number }) => {
    setS({ ...IDLE, phase: 'asking' })
    let stream: MediaStream
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      })
    } catch (err) {
      return finish({ reason: 'permission', message: (err as Error).message })
    }
    const audio = new AudioContext()
    const analyser = audio.createAnalyser()
    analyser.fftSize = 1024
    audio.createMediaStreamSource(stream).connect(analyser)
    const samples = new Float32Array(analyser.fftSize)
    const meter = setInterval(() => {
      analyser.getFloatTimeDomainData(samples)
      let peak = 0
      for (const v of samples) peak = Math.max(peak, Math.abs(v))
      setS((p) => (p.phase === 'idle' ? p : { ...p, level: Math.min(1, peak) }))
    }, 100)
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const ws = new WebSocket(`${proto}//${location.host}/api/live-mic`)
    let recorder: MediaRecorder | null = null
    let over = false
    cleanup.current = () => {
      over = true
      clearInterval(meter)
      if (recorder && recorder.state !== 'inactive') recorder.stop()
      for (const tr of stream.getTracks()) tr.stop()
      void audio.close().catch(() => {})
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close()
    }
    requestStop.current = () => {
      if (recorder && recorder.state !== 'inactive') recorder.stop()
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'stop' }))
      else finish({ reason: 'stopped' })
    }
    setS((p) => ({ ...p, phase: 'connecting' }))
    ws.onopen = () => ws.send(JSON.stringify({ type: 'start', ...req }))
    ws.onmessage = (e: MessageEvent<string>) => {
      const m = JSON.parse(e.data) as { type: string; liveId?: string } & MicEnd
      if (m.type === 'started') {
        const rec = new MediaRecorder(stream, { mimeType: MIC_MIME, audioBitsPerSecond: 32_000 })
        recorder = rec
        rec.ondataavailable = (ev) => {
          if (ev.data.size > 0 && ws.readyState === WebSocket.OPEN) ws.send(ev.data)
        }
        rec.onerror = () => finish({ reason: 'error', message: 'MediaRecorder' })
        rec.start(TIMESLICE_MS)
        setS((p) => ({ ...p, phase: 'live', liveId: m.liveId ?? null, startedAt: Date.now() }))
      } else if (m.type === 'ended' || m.type === 'error') {
        finish({ reason: m.type === 'error' ? 'error' : m.reason, code: m.code, message: m.message })
      }
    }
    ws.onclose = () => {
      if (!over) finish({ reason: 'connection' })
    }
  }

  const stop = () => {
    setS((p) => ({ ...p, phase: 'stopping' }))
    // The server answers `ended` and closes the socket, which ends the session here.
    requestStop.current?.()
  }

  return { state: s, start, stop }
}
