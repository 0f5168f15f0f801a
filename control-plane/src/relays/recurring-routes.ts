import { randomUUID } from 'node:crypto'
import { Type } from '@fastify/type-provider-typebox'
import {
  DESIRED_LIMITS,
  EntityId,
  LiveSourceUrl,
  Percent,
  Priority,
  Recurrence,
  RelayEntry,
  recurrenceProblems,
} from '@loa/shared'
import type { FastifyRequest } from 'fastify'
import { targetsVisible } from '../access/policy.js'
import { assertTargetsInScope } from '../access/request-policy.js'
import type { App, Services } from '../context.js'
import { targetsScope } from '../desired/state.js'
import { checkTargetsExist, plainTargets, TargetsBody } from '../org/targets-input.js'
import { bodyProblem } from '../schedules/routes.js'
import { LoaError, notFound } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import { loaPlugin } from '../server/plugin.js'
import { relayBand, SOURCE_PROBLEM, sourceAwareMessage, sourceUrlProblem } from './live-input.js'
import type { Relay } from './model.js'

const RelayBody = Type.Object(
  {
    id: Type.Optional(EntityId),
    title: PlainText({ minLength: 1, maxLength: DESIRED_LIMITS.titleLength }),
    sourceUrl: LiveSourceUrl,
    recurrence: Recurrence,
    durationS: RelayEntry.properties.durationS,
    targets: TargetsBody,
    priority: Type.Optional(Priority),
    volume: Type.Optional(Percent),
  },
  { additionalProperties: false },
)

const bad = (message: string) => new LoaError('LOA_RELAY_INVALID', message)
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

/** What relay routes use of the services (app.ts passes exactly these). */
export type RelayRoutesDeps = Pick<Services, 'desired' | 'repos'>

/**
 * Recurring relays (e.g. the national news every day at 06:00 for 30 min): stored like schedules and carried in
 * the `relays` of every targeted cluster's desired state; the agents evaluate the occurrences themselves.
 */
export function registerRelayRoutes(app: App, s: RelayRoutesDeps): void {
  const { relays } = s.repos

  const visibleRelay = async (req: FastifyRequest, id: string): Promise<Relay> => {
    const r = await relays.get(id)
    if (!r || !(await targetsVisible(s, req.actor, r.targets))) throw notFound('relay', id)
    return r
  }

  app.post(
    '/api/relays',
    {
      schema: { tags: ['relays'], body: RelayBody },
      attachValidation: true,
      config: { permission: 'live', audit: 'relay.create' },
    },
    async (req, reply) => {
      if (req.validationError) {
        throw bad(sourceAwareMessage(req.validationError, (e) => bodyProblem(e, req.body)))
      }
      const b = req.body
      if (sourceUrlProblem(b.sourceUrl)) throw bad(`sourceUrl: ${SOURCE_PROBLEM}`)
      const problems = recurrenceProblems(b.recurrence)
      if (problems[0]) throw bad(problems[0])
      const targets = plainTargets(b.targets, bad)
      await assertTargetsInScope(s, req, targets)
      await checkTargetsExist(s.repos, targets, bad)
      const id = b.id ?? `r-${randomUUID()}`
      if (await relays.get(id)) throw new LoaError('LOA_CONFLICT', `id: relay "${id}" already exists`)
      const relay = await relays.create({
        id,
        title: b.title,
        sourceUrl: b.sourceUrl,
        recurrence: b.recurrence,
        durationS: b.durationS,
        targets,
        priority: relayBand(b.priority, bad),
        volume: b.volume ?? null,
      })
      await s.desired.admit(targetsScope(targets), () => relays.delete(id))
      return reply.status(201).send(relay)
    },
  )

  app.get('/api/relays', { schema: { tags: ['relays'] }, config: { permission: 'read' } }, async (req) => {
    const all = await relays.list()
    const shown = await Promise.all(all.map((r) => targetsVisible(s, req.actor, r.targets)))
    return { relays: all.filter((_, i) => shown[i]) }
  })

  app.get(
    '/api/relays/:id',
    { schema: { tags: ['relays'], params: IdParams }, config: { permission: 'read' } },
    async (req) => visibleRelay(req, req.params.id),
  )

  app.delete(
    '/api/relays/:id',
    { schema: { tags: ['relays'], params: IdParams }, config: { permission: 'live', audit: 'relay.delete' } },
    async (req, reply) => {
      const { targets } = await visibleRelay(req, req.params.id)
      await assertTargetsInScope(s, req, targets)
      if (!(await relays.delete(req.params.id))) throw notFound('relay', req.params.id)
      await s.desired.changed(targetsScope(targets))
      return reply.status(204).send()
    },
  )
}

/** registerRelayRoutes as a Fastify plugin (server/plugin.ts). */
export const relayRoutes = loaPlugin('loa-relay-routes', registerRelayRoutes)
