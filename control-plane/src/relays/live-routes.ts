import { Type } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { targetsVisible } from '../access/policy.js'
import { assertTargetsInScope } from '../access/request-policy.js'
import { countsStreams } from '../commands/sse-counts.js'
import { visibleUntargeted } from '../commands/untargeted-view.js'
import type { App, Services } from '../context.js'
import { LoaError } from '../server/errors.js'
import { loaPlugin } from '../server/plugin.js'
import { LiveBody, liveInputFromBody, sourceAwareMessage } from './live-input.js'
import type { StartResult } from './live-service.js'
import type { Live } from './model.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const LiveStates = Type.Union([Type.Literal('active'), Type.Literal('stopped'), Type.Literal('ended')])

const startView = (r: StartResult) => ({
  ...r.live,
  targetCount: r.targetCount,
  publishes: r.publishes,
  publishFailures: r.publishFailures,
})

/** What live routes use of the services (app.ts passes exactly these). */
export type LiveRoutesDeps = Pick<Services, 'alertStream' | 'lives' | 'repos'>

/** Live relays (docs/live.md): start, stop, list, view with ack counts, and the counts as Server-Sent Events. */
export function registerLiveRoutes(
  app: App,
  s: LiveRoutesDeps,
  opts: { streamThrottleMs?: number; streamLingerMs?: number } = s.alertStream ?? {},
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

  /** 404 unless the live relay concerns the actor's scope; with `act`, 403 unless all its targets are inside it. */
  const visibleLive = async (req: FastifyRequest, id: string, act = false): Promise<Live> => {
    const l = await lives.get(id)
    if (!(await targetsVisible(s, req.actor, l.targets, await s.repos.lives.targetIds(id)))) {
      throw new LoaError('LOA_NOT_FOUND', `live relay "${id}" not found`)
    }
    if (act) await assertTargetsInScope(s, req, l.targets)
    return l
  }

  app.post(
    '/api/lives',
    {
      schema: { tags: ['lives'], body: LiveBody },
      attachValidation: true,
      config: { permission: 'live', audit: 'live.start' },
    },
    async (req, reply) => {
      if (req.validationError) {
        throw new LoaError('LOA_LIVE_INVALID', sourceAwareMessage(req.validationError))
      }
      await assertTargetsInScope(s, req, req.body.targets)
      const input = await liveInputFromBody(s.repos, req.body)
      return reply.status(201).send(startView(await lives.startLive(input)))
    },
  )

  app.post(
    '/api/lives/:id/stop',
    { schema: { tags: ['lives'], params: IdParams }, config: { permission: 'live', audit: 'live.stop' } },
    async (req) => {
      await visibleLive(req, req.params.id, true)
      return lives.stopLive(req.params.id)
    },
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
      config: { permission: 'read' },
    },
    async (req) => {
      const all = await s.repos.lives.list({ state: req.query.state, limit: req.query.limit ?? 200 })
      const shown = await Promise.all(
        all.map(async (l) => targetsVisible(s, req.actor, l.targets, await s.repos.lives.targetIds(l.id))),
      )
      const list = all.filter((_, i) => shown[i])
      return {
        lives: await Promise.all(list.map(async (l) => ({ ...l, counts: await s.repos.lives.counts(l.id) }))),
      }
    },
  )

  app.get(
    '/api/lives/:id',
    { schema: { tags: ['lives'], params: IdParams }, config: { permission: 'read' } },
    async (req) => {
      await visibleLive(req, req.params.id)
      return visibleUntargeted(s, req.actor, await lives.view(req.params.id))
    },
  )

  app.get(
    '/api/lives/:id/stream',
    { schema: { tags: ['lives'], params: IdParams }, config: { permission: 'read' } },
    async (req, reply) => {
      await visibleLive(req, req.params.id) // 404 before the stream starts
      stream(req.params.id, req, reply)
    },
  )
}

/** registerLiveRoutes as a Fastify plugin (server/plugin.ts). */
export const liveRoutes = loaPlugin('loa-live-routes', registerLiveRoutes)
