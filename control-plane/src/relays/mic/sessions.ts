import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Actor } from '../../access/actor.js'
import { type AuditLog, auditActor } from '../../audit/log.js'
import { LoaError, type LoaErrorCode } from '../../server/errors.js'
import type { LiveInput } from '../live-input.js'
import type { LivesService } from '../live-service.js'
import { DEFAULT_MIC_LIMITS, type MicLimits } from './limits.js'
import { MicStream } from './stream.js'

export type MicEndReason = 'stopped' | 'disconnected' | 'idle' | 'max-duration' | 'relay-stopped' | 'error'

export interface MicEnd {
  reason: MicEndReason
  code?: LoaErrorCode
  message?: string
}

/** What the WebSocket side hears from its session. */
export interface MicClient {
  ended(end: MicEnd): void
}

export interface MicStartInput {
  live: Omit<LiveInput, 'sourceUrl'>
  actor: Actor
  ip: string
  /** Where agents reach this control plane (LOA_PUBLIC_URL, else the address the browser used). */
  baseUrl: string
}

export interface MicSessionsOptions {
  lives: LivesService
  audit: AuditLog
  log: Pick<FastifyBaseLogger, 'info' | 'error'>
  limits?: Partial<MicLimits>
  ffmpegPath?: string
}

const micIdOf = (url: string) => url.split('/').slice(-2)[0] ?? ''

/** WebM files (and MediaRecorder's first chunk) begin with the EBML magic number. */
const EBML_MAGIC = Buffer.from([0x1a, 0x45, 0xdf, 0xa3])

/**
 * One operator speaking: browser chunks into a MicStream, an ordinary live relay whose source is the stream's
 * capability URL, and every way it can end (stop, socket closed, idle, too long, bad input, relay stopped from
 * elsewhere) going through `end`, which stops the relay and kills ffmpeg exactly once.
 */
export class MicSession {
  readonly id = `m-${randomUUID()}`
  readonly token = randomBytes(16).toString('hex')
  readonly startedAt = Date.now()
  liveId: string | null = null
  targetCount = 0
  private readonly stream: MicStream
  private bytesIn = 0
  private lastInput = Date.now()
  private firstInput = 0
  private ended: MicEnd | null = null
  private readonly timer: NodeJS.Timeout
  private unwatch: () => void = () => {}
  /** Resolves once the relay is stopped and ffmpeg is gone. */
  readonly done: Promise<void>
  private resolveDone: () => void = () => {}

  constructor(
    private readonly owner: MicSessions,
    private readonly input: MicStartInput,
    private readonly limits: MicLimits,
    private readonly client: MicClient,
    ffmpegPath: string | undefined,
  ) {
    this.done = new Promise((r) => {
      this.resolveDone = r
    })
    this.stream = new MicStream(
      {
        bitrateKbps: limits.bitrateKbps,
        // About 10 s of audio: a listener further behind than that is no longer live.
        maxBacklogBytes: limits.bitrateKbps * 125 * 10,
        maxListeners: limits.maxListeners,
        ffmpegPath,
      },
      (problem) => {
        if (problem) this.fail('LOA_MIC_NOT_AUDIO', `the audio could not be decoded (${problem})`)
        else this.end({ reason: 'error', code: 'LOA_MIC_NOT_AUDIO', message: 'the transcoder stopped' })
      },
    )
    this.timer = setInterval(() => this.tick(), 500)
  }

  /** The relay's source: a capability URL, valid while the session lives. */
  get sourceUrl(): string {
    return `${this.input.baseUrl.replace(/\/+$/, '')}/live-mic/${this.id}/${this.token}.mp3`
  }

  get listenerCount(): number {
    return this.stream.listenerCount
  }

  get isOver(): boolean {
    return this.ended !== null
  }

  tokenMatches(token: string): boolean {
    const a = Buffer.from(token)
    const b = Buffer.from(this.token)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  listen(res: Parameters<MicStream['listen']>[0]): boolean {
    return !this.ended && this.stream.listen(res)
  }

  /** Starts the live relay; its failure (e.g. no cluster matches) ends the session with the relay's error. */
  async startRelay(): Promise<void> {
    const r = await this.owner.o.lives.startLive({ ...this.input.live, sourceUrl: this.sourceUrl })
    this.liveId = r.live.id
    this.targetCount = r.targetCount
    if (this.ended) {
      // Ended (e.g. the socket closed) while the relay was being sent: stop what was just started.
      await this.owner.o.lives.stopLive(r.live.id).catch(() => {})
      return
    }
    const liveId = r.live.id
    this.unwatch = this.owner.o.lives.watch(liveId, () => {
      void this.owner.o.lives.get(liveId).then(
        (l) => {
          if (l.state !== 'active') this.end({ reason: 'relay-stopped' })
        },
        () => {},
      )
    })
    await this.audit('live.mic.start', 201, { targetCount: r.targetCount, priority: r.live.priority })
  }

  /** One MediaRecorder chunk. */
  push(chunk: Buffer): void {
    if (this.ended) return
    const problem = this.inputProblem(chunk)
    if (problem) this.fail(problem[0], problem[1])
    else this.stream.write(chunk)
  }

  private inputProblem(chunk: Buffer): [LoaErrorCode, string] | null {
    const l = this.limits
    if (chunk.length > l.maxChunkBytes) {
      return ['LOA_MIC_LIMIT', `an audio chunk is larger than ${l.maxChunkBytes} bytes`]
    }
    if (this.bytesIn === 0 && !chunk.subarray(0, 4).equals(EBML_MAGIC)) {
      return ['LOA_MIC_NOT_AUDIO', 'expected WebM audio (MediaRecorder, audio/webm;codecs=opus)']
    }
    if (this.bytesIn === 0) this.firstInput = Date.now()
    this.bytesIn += chunk.length
    this.lastInput = Date.now()
    const elapsedS = Math.max(1, (Date.now() - this.startedAt) / 1000)
    // Average rate with a few seconds of burst allowance: a reconnecting phone may send a backlog at once.
    if (this.bytesIn > l.maxBytesPerS * (elapsedS + 5)) {
      return ['LOA_MIC_LIMIT', `audio arrives faster than ${l.maxBytesPerS} bytes/s`]
    }
    // ffmpeg not keeping up (a starved machine): refuse to queue audio without bound, and without delay growing.
    if (this.stream.inputBacklog > 1024 * 1024) return ['LOA_MIC_LIMIT', 'the transcoder is too far behind']
    if (this.stream.bytesOut === 0 && this.bytesIn > l.maxBytesBeforeOutput) {
      return ['LOA_MIC_NOT_AUDIO', 'no audio could be decoded from what the browser sent']
    }
    return null
  }

  private tick(): void {
    const now = Date.now()
    if (this.bytesIn > 0 && this.stream.bytesOut === 0 && now - this.firstInput > this.limits.noOutputMs) {
      this.fail('LOA_MIC_NOT_AUDIO', 'no audio could be decoded from what the browser sent')
    } else if (now - this.lastInput > this.limits.idleMs) {
      this.end({
        reason: 'idle',
        code: 'LOA_MIC_IDLE',
        message: `no audio for ${Math.round(this.limits.idleMs / 1000)} s`,
      })
    } else if (now - this.startedAt > this.limits.maxDurationS * 1000) {
      this.end({
        reason: 'max-duration',
        code: 'LOA_MIC_LIMIT',
        message: `a session lasts at most ${Math.round(this.limits.maxDurationS / 60)} min`,
      })
    }
  }

  fail(code: LoaErrorCode, message: string): void {
    this.end({ reason: 'error', code, message })
  }

  /** Every exit path: tells the browser, stops the relay, kills ffmpeg, audits. Only the first call counts. */
  end(end: MicEnd): Promise<void> {
    if (this.ended) return this.done
    this.ended = end
    clearInterval(this.timer)
    this.unwatch()
    this.client.ended(end)
    void (async () => {
      try {
        // Stop the relay first: agents get live-stop before their source ends, so they do not ack `failed`.
        if (this.liveId) await this.owner.o.lives.stopLive(this.liveId)
      } catch (err) {
        this.owner.o.log.error({ err: (err as Error).message, liveId: this.liveId }, 'mic relay stop failed')
      }
      await this.stream.close()
      if (this.liveId) {
        await this.audit('live.mic.stop', 200, {
          reason: end.reason,
          ...(end.code ? { code: end.code } : {}),
          seconds: Math.round((Date.now() - this.startedAt) / 1000),
          bytesIn: this.bytesIn,
        })
      }
      this.owner.o.log.info(
        { sessionId: this.id, liveId: this.liveId, reason: end.reason, code: end.code, message: end.message },
        'mic session ended',
      )
      this.owner.forget(this)
      this.resolveDone()
    })()
    return this.done
  }

  private audit(action: string, outcome: number, details: Record<string, unknown>): Promise<void> {
    return this.owner.o.audit.record({
      actor: auditActor(this.input.actor),
      action,
      targetType: 'live',
      targetId: this.liveId,
      outcome,
      ip: this.input.ip,
      details: { sessionId: this.id, title: this.input.live.title, ...details },
    })
  }
}

/** The microphone sessions of this control plane. */
export class MicSessions {
  readonly limits: MicLimits
  private readonly sessions = new Map<string, MicSession>()

  constructor(readonly o: MicSessionsOptions) {
    this.limits = { ...DEFAULT_MIC_LIMITS, ...o.limits }
  }

  /** Spawns the session's ffmpeg; the caller then starts its relay (`startRelay`). */
  open(input: MicStartInput, client: MicClient): MicSession {
    if (this.sessions.size >= this.limits.maxSessions) {
      throw new LoaError(
        'LOA_MIC_LIMIT',
        `${this.limits.maxSessions} microphone sessions are already live; try again when one ends`,
      )
    }
    const s = new MicSession(this, input, this.limits, client, this.o.ffmpegPath)
    this.sessions.set(s.id, s)
    return s
  }

  get(id: string): MicSession | undefined {
    return this.sessions.get(id)
  }

  get size(): number {
    return this.sessions.size
  }

  forget(s: MicSession): void {
    if (this.sessions.get(s.id) === s) this.sessions.delete(s.id)
  }

  /** Stops active relays of microphone sessions that died with a previous run of this control plane. */
  async stopOrphans(): Promise<void> {
    for (const l of await this.o.lives.listActive()) {
      if (
        /\/live-mic\/m-[0-9a-f-]+\/[0-9a-f]{32}\.mp3$/.test(l.sourceUrl) &&
        !this.sessions.has(micIdOf(l.sourceUrl))
      ) {
        await this.o.lives.stopLive(l.id)
        this.o.log.info({ liveId: l.id }, 'stopped the relay of a microphone session from a previous run')
      }
    }
  }

  /** Ends every session (shutdown): relays stopped, ffmpegs killed. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.sessions.values()].map((s) =>
        s.end({ reason: 'error', code: 'LOA_UNAVAILABLE', message: 'the control plane is shutting down' }),
      ),
    )
  }
}
