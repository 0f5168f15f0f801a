import websocket from '@fastify/websocket'
import { Percent, Priority } from '@loa/shared'
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { assertSameOrigin } from '../../access/auth-plugin.js'
import { assertTargetsInScope } from '../../access/request-policy.js'
import { auditActor } from '../../audit/log.js'
import type { App, Services } from '../../context.js'
import { TargetsBody } from '../../org/targets-input.js'
import { LoaError, validationMessage } from '../../server/errors.js'
import { PlainText } from '../../server/plain-text.js'
import { AUTH_PLUGIN, loaPlugin, WEBSOCKET_PLUGIN } from '../../server/plugin.js'
import { liveInputFromBody } from '../live-input.js'
import { DEFAULT_MIC_LIMITS, type MicLimits } from './limits.js'
import { type MicSession, MicSessions } from './sessions.js'

/** The first (text) message of a microphone WebSocket: what a live relay needs, minus its source. */
export const MicStartMessage = Type.Object(
  {
    type: Type.Literal('start'),
    title: PlainText({ minLength: 1, maxLength: 200 }),
    targets: TargetsBody,
    priority: Type.Optional(Priority),
    volume: Type.Optional(Percent),
  },
  { additionalProperties: false },
)
type MicStart = Static<typeof MicStartMessage>

/** Audio sent before the session exists (while the start is validated) is kept, up to this much. */
const MAX_PENDING_BYTES = 1024 * 1024

const micError = (code: string, message: string) => ({ type: 'error', code, message })

/** What the WebSocket support uses of the services (app.ts passes exactly these). */
export type WebsocketDeps = Pick<Services, 'config'>

/**
 * WebSocket support. Registered before the auth hooks: its onRequest hook marks upgrade requests, so a handshake
 * that auth refuses (401/403) still gets its socket destroyed after the response. Registered after them, a refused
 * handshake left a half-open socket behind, and the server never finished closing.
 */
export async function registerWebsocket(app: App, s: WebsocketDeps): Promise<void> {
  const maxChunk = s.config.micLimits?.maxChunkBytes ?? DEFAULT_MIC_LIMITS.maxChunkBytes
  await app.register(websocket, { options: { maxPayload: maxChunk + 1024 } })
}

/** What mic routes use of the services (app.ts passes exactly these). */
export type MicRoutesDeps = Pick<Services, 'audit' | 'config' | 'lives' | 'repos'>

/**
 * Speaking live from the browser's microphone (docs/console-content.md): `GET /api/live-mic` upgraded to a
 * WebSocket carrying MediaRecorder chunks, and `GET /live-mic/<session>/<token>.mp3`, the capability URL the
 * session's live relay hands to the agents.
 */
export async function registerMicRoutes(
  app: App,
  s: MicRoutesDeps,
  opts: { limits?: Partial<MicLimits> } = { limits: s.config.micLimits },
): Promise<MicSessions> {
  const mics = new MicSessions({
    lives: s.lives,
    audit: s.audit,
    log: app.log.child({ component: 'mic' }),
    limits: opts.limits,
  })
  app.addHook('onClose', async () => mics.close())
  // Sessions do not survive a restart: a microphone relay still active in the database has lost its speaker.
  app.addHook('onReady', async () => {
    void mics
      .stopOrphans()
      .catch((err: Error) => app.log.error({ err: err.message }, 'mic orphan stop failed'))
  })

  const baseUrlOf = (req: FastifyRequest) => s.config.publicUrl ?? `${req.protocol}://${req.host}`

  app.get(
    '/api/live-mic',
    {
      websocket: true,
      schema: { tags: ['lives'] },
      // A WebSocket handshake is a GET: the cross-site check other cookie requests get on unsafe methods is
      // applied here explicitly (cross-site WebSocket hijacking).
      onRequest: async (req) => assertSameOrigin(req),
      config: { permission: 'live', audit: false },
    },
    (socket, req) => {
      let session: MicSession | null = null
      let state: 'await-start' | 'starting' | 'open' | 'closed' = 'await-start'
      let pending: Buffer[] = []
      let pendingBytes = 0
      // Changed by the socket's events while `begin` awaits.
      const closed = () => state === 'closed'
      const send = (m: Record<string, unknown>) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m))
      }
      const refuse = (code: string, message: string) => {
        send(micError(code, message))
        state = 'closed'
        socket.close(1008, code)
      }
      const client = {
        ended(end: { reason: string; code?: string; message?: string }) {
          send({ type: 'ended', ...end })
          state = 'closed'
          socket.close(end.reason === 'error' ? 1011 : 1000, end.code ?? end.reason)
        },
      }

      const begin = async (raw: unknown) => {
        if (!Value.Check(MicStartMessage, raw)) {
          const errors = [...Value.Errors(MicStartMessage, raw)].map((e) => ({
            instancePath: e.path,
            message: e.message,
            params: { pattern: e.schema.pattern },
          }))
          return refuse('LOA_MIC_INVALID', validationMessage(errors, 'invalid start message'))
        }
        const body: MicStart = raw
        const bad = (m: string) => new LoaError('LOA_MIC_INVALID', m)
        const baseUrl = baseUrlOf(req)
        try {
          await assertTargetsInScope(s, req, body.targets)
          const { sourceUrl: _, ...live } = await liveInputFromBody(s.repos, {
            title: body.title,
            // Validates the public base URL as a relay source; the session's own URL replaces it.
            sourceUrl: `${baseUrl}/live-mic/`,
            targets: body.targets,
            // Ends on the agents even if this control plane dies mid-session.
            durationS: mics.limits.maxDurationS + 60,
            priority: body.priority,
            volume: body.volume,
          })
          if (closed()) return
          session = mics.open({ live, actor: req.actor, ip: req.ip, baseUrl }, client)
          await session.startRelay()
        } catch (err) {
          const e = err instanceof LoaError ? err : bad((err as Error).message)
          const code = e.code === 'LOA_LIVE_INVALID' ? 'LOA_MIC_INVALID' : e.code
          const message = e.message.replace(/^sourceUrl: /, 'LOA_PUBLIC_URL: ')
          // A refused start is audited as other refused operator actions are (they get theirs from onResponse).
          await s.audit.record({
            actor: auditActor(req.actor),
            action: 'live.mic.start',
            targetType: 'live',
            outcome: e.statusCode,
            ip: req.ip,
            details: { code, message, title: body.title },
          })
          if (session) return void session.end({ reason: 'error', code, message })
          return refuse(code, message)
        }
        if (closed() || session.isOver) return
        state = 'open'
        send({
          type: 'started',
          sessionId: session.id,
          liveId: session.liveId,
          targetCount: session.targetCount,
          limits: { maxDurationS: mics.limits.maxDurationS, idleMs: mics.limits.idleMs },
        })
        for (const chunk of pending) session.push(chunk)
        pending = []
      }

      socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
        if (isBinary) {
          if (state === 'open') session?.push(buf)
          else if (state === 'starting') {
            pendingBytes += buf.length
            if (pendingBytes > MAX_PENDING_BYTES) refuse('LOA_MIC_LIMIT', 'too much audio before the start')
            else pending.push(buf)
          } else if (state === 'await-start') refuse('LOA_MIC_INVALID', 'send the start message first')
          return
        }
        let msg: unknown
        try {
          msg = JSON.parse(buf.toString('utf8'))
        } catch {
          return refuse('LOA_MIC_INVALID', 'a text message must be JSON')
        }
        const type = (msg as { type?: unknown } | null)?.type
        if (type === 'start' && state === 'await-start') {
          state = 'starting'
          void begin(msg)
        } else if (type === 'stop') {
          if (session) void session.end({ reason: 'stopped' })
          else refuse('LOA_MIC_INVALID', 'nothing to stop')
        } else {
          refuse('LOA_MIC_INVALID', `unexpected message ${JSON.stringify(type ?? null)} (${state})`)
        }
      })
      socket.on('close', () => {
        state = 'closed'
        void session?.end({ reason: 'disconnected' })
      })
    },
  )

  app.get(
    '/live-mic/:sessionId/:file',
    {
      schema: {
        hide: true,
        params: Type.Object({
          sessionId: Type.String({ maxLength: 64 }),
          file: Type.String({ maxLength: 64 }),
        }),
      },
      // The URL is a capability: keep it out of the request log.
      logLevel: 'warn',
      // A HEAD would join the listeners and hang on; only GET streams.
      exposeHeadRoute: false,
      config: { permission: 'public' },
    },
    async (req, reply) => {
      const token = /^([0-9a-f]{32})\.mp3$/.exec(req.params.file)?.[1]
      const session = mics.get(req.params.sessionId)
      if (!token || !session?.tokenMatches(token) || session.isOver) {
        throw new LoaError(
          'LOA_NOT_FOUND',
          'microphone stream not found (it has ended, or the link is wrong)',
        )
      }
      if (session.listenerCount >= mics.limits.maxListeners) {
        throw new LoaError('LOA_UNAVAILABLE', 'too many listeners on this microphone stream')
      }
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'audio/mpeg',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      })
      res.flushHeaders()
      if (!session.listen(res)) res.end()
    },
  )
  return mics
}

/** registerWebsocket as a Fastify plugin (server/plugin.ts). */
export const websocketPlugin = loaPlugin(WEBSOCKET_PLUGIN, registerWebsocket, [])

/** registerMicRoutes as a Fastify plugin (server/plugin.ts). */
export const micRoutes = loaPlugin('loa-mic-routes', registerMicRoutes, [AUTH_PLUGIN, WEBSOCKET_PLUGIN])
