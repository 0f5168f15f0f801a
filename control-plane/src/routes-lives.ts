import { Type } from '@fastify/type-provider-typebox'
import type { App, Services } from './context.js'
import { LoaError } from './errors.js'
import { LiveBody, liveInputFromBody, sourceAwareMessage } from './live-input.js'
import type { StartResult } from './lives-service.js'
import { countsStreams } from './sse-counts.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const LiveStates = Type.Union([Type.Literal('active'), Type.Literal('stopped'), Type.Literal('ended')])

const startView = (r: StartResult) => ({
  ...r.live,
  targetCount: r.targetCount,
  publishes: r.publishes,
  publishFailures: r.publishFailures,
})

/** Live relays (docs/live.md): start, stop, list, view with ack counts, and the counts as Server-Sent Events. */
export function registerLiveRoutes(
  app: App,
  s: Services,
  opts: { streamThrottleMs?: number; streamLingerMs?: number } = {},
): void {
  const lives = s.lives
  const stream = countsStreams(app, {
    throttleMs: opts.streamThrottleMs ?? 100,
    lingerMs: opts.streamLingerMs ?? 10_000,
    idField: 'liveId',
    // A failed relay is retried by the agent: only done, cancelled and expired end the stream early.
    finalStages: ['done', 'cancelled', 'expired'],
    async view(id) {
      const v = await lives.view(id)
      return { state: v.live.state, revision: v.live.revision, counts: v.counts }
    },
    watch: (id, fn) => lives.watch(id, fn),
  })

  app.post(
    '/api/lives',
    { schema: { tags: ['lives'], body: LiveBody }, attachValidation: true },
    async (req, reply) => {
      if (req.validationError) {
        throw new LoaError('LOA_LIVE_INVALID', sourceAwareMessage(req.validationError))
      }
      const input = await liveInputFromBody(s.repos, req.body)
      return reply.status(201).send(startView(await lives.startLive(input)))
    },
  )

  app.post('/api/lives/:id/stop', { schema: { tags: ['lives'], params: IdParams } }, async (req) =>
    lives.stopLive(req.params.id),
  )

  app.get(
    '/api/lives',
    {
      schema: {
        tags: ['lives'],
        querystring: Type.Object({
          state: Type.Optional(LiveStates),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
      },
    },
    async (req) => {
      const list = await s.repos.lives.list({ state: req.query.state, limit: req.query.limit ?? 200 })
      return {
        lives: await Promise.all(list.map(async (l) => ({ ...l, counts: await s.repos.lives.counts(l.id) }))),
      }
    },
  )

  app.get('/api/lives/:id', { schema: { tags: ['lives'], params: IdParams } }, async (req) =>
    lives.view(req.params.id),
  )

  app.get('/api/lives/:id/stream', { schema: { tags: ['lives'], params: IdParams } }, async (req, reply) => {
    await lives.get(req.params.id) // 404 before the stream starts
    stream(req.params.id, req, reply)
  })
}
