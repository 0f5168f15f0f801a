import { Type } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { targetsVisible } from '../access/policy.js'
import { assertTargetsInScope } from '../access/request-policy.js'
import { visibleContent } from '../access/scope-refs.js'
import { countsStreams } from '../commands/sse-counts.js'
import { visibleUntargeted } from '../commands/untargeted-view.js'
import type { App, Services } from '../context.js'
import { checkTargetsExist } from '../org/targets-input.js'
import { LoaError, validationMessage } from '../server/errors.js'
import { loaPlugin } from '../server/plugin.js'
import {
  AlertBody,
  AlertPatchBody,
  alertInputFromBody,
  resolveBand,
  resolveExpiry,
  resolveItems,
  resolveTargetsBody,
} from './input.js'
import type { Alert } from './model.js'
import type { AlertInput, RaiseResult } from './service.js'
import { speakAlertText } from './speech.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

/** Schema failures of alert bodies get the alert code, still naming the field. */
function checkValidation(req: FastifyRequest): void {
  if (req.validationError) {
    throw new LoaError(
      'LOA_ALERT_INVALID',
      validationMessage(req.validationError.validation, req.validationError.message),
    )
  }
}

export const raiseView = (r: RaiseResult) => ({
  ...r.alert,
  targetCount: r.targetCount,
  sent: r.sent,
  publishes: r.publishes,
  publishFailures: r.publishFailures,
})

/** What alert routes use of the services (app.ts passes exactly these). */
export type AlertRoutesDeps = Pick<Services, 'alertStream' | 'alerts' | 'config' | 'lanes' | 'repos' | 'tts'>

export function registerAlertRoutes(
  app: App,
  s: AlertRoutesDeps,
  opts: { streamThrottleMs?: number; streamLingerMs?: number } = s.alertStream ?? {},
): void {
  const alerts = s.alerts
  const throttleMs = opts.streamThrottleMs ?? 100
  const lingerMs = opts.streamLingerMs ?? 10_000
  const stream = countsStreams(app, {
    throttleMs,
    lingerMs,
    idField: 'alertId',
    async view(id) {
      const v = await alerts.view(id)
      return { state: v.alert.state, revision: v.alert.revision, counts: v.counts }
    },
    watch: (id, fn) => alerts.watch(id, fn),
  })

  /** 404 unless the alert concerns the actor's scope; with `act`, 403 unless all its targets are inside it. */
  const visibleAlert = async (req: FastifyRequest, id: string, act = false): Promise<Alert> => {
    const a = await alerts.get(id)
    if (!(await targetsVisible(s, req.actor, a.targets, await s.repos.alerts.targetIds(id)))) {
      throw new LoaError('LOA_NOT_FOUND', `alert "${id}" not found`)
    }
    if (act) await assertTargetsInScope(s, req, a.targets)
    return a
  }

  app.post(
    '/api/alerts',
    {
      schema: { tags: ['alerts'], body: AlertBody },
      attachValidation: true,
      config: { permission: 'emergency', audit: 'alert.raise' },
    },
    async (req, reply) => {
      checkValidation(req)
      await assertTargetsInScope(s, req, req.body.targets)
      const b = req.body
      const body = await speakAlertText(s, req.actor, b, async () => {
        resolveBand(b)
        resolveExpiry(b)
        await checkTargetsExist(
          s.repos,
          resolveTargetsBody(b.targets),
          (m) => new LoaError('LOA_ALERT_INVALID', m),
        )
      })
      const input = await alertInputFromBody(s.repos, visibleContent(s, req.actor), body)
      return reply.status(201).send(raiseView(await alerts.raise(input)))
    },
  )

  app.put(
    '/api/alerts/:id',
    {
      schema: { tags: ['alerts'], params: IdParams, body: AlertPatchBody },
      attachValidation: true,
      config: { permission: 'emergency', audit: 'alert.revise' },
    },
    async (req) => {
      checkValidation(req)
      const cur = await visibleAlert(req, req.params.id, true)
      const b = await speakAlertText(s, req.actor, req.body, () => {
        resolveBand(req.body, cur)
        resolveExpiry(req.body)
      })
      const patch: Partial<AlertInput> = {}
      if (b.title !== undefined) patch.title = b.title
      const items = await resolveItems(visibleContent(s, req.actor), b, false)
      if (items) patch.items = items
      const band = resolveBand(b, cur)
      patch.level = band.level
      patch.priority = band.priority
      const expiresAt = resolveExpiry(b)
      if (expiresAt) patch.expiresAt = expiresAt
      if (b.repeat !== undefined) patch.repeat = b.repeat
      if (b.audible !== undefined) patch.audible = b.audible
      if (b.volume !== undefined) patch.volume = b.volume
      return raiseView(await alerts.revise(req.params.id, patch))
    },
  )

  app.post(
    '/api/alerts/:id/cancel',
    {
      schema: { tags: ['alerts'], params: IdParams },
      config: { permission: 'emergency', audit: 'alert.cancel' },
    },
    async (req) => {
      await visibleAlert(req, req.params.id, true)
      return alerts.cancel(req.params.id)
    },
  )

  app.get(
    '/api/alerts',
    {
      schema: {
        tags: ['alerts'],
        querystring: Type.Object({
          state: Type.Optional(
            Type.Union([Type.Literal('active'), Type.Literal('cancelled'), Type.Literal('expired')]),
          ),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
      },
      config: { permission: 'read' },
    },
    async (req) => {
      const all = await s.repos.alerts.list({ state: req.query.state, limit: req.query.limit ?? 200 })
      const shown = await Promise.all(
        all.map(async (a) => targetsVisible(s, req.actor, a.targets, await s.repos.alerts.targetIds(a.id))),
      )
      const list = all.filter((_, i) => shown[i])
      const withCounts = await Promise.all(
        list.map(async (a: Alert) => ({ ...a, counts: await s.repos.alerts.counts(a.id) })),
      )
      return { alerts: withCounts }
    },
  )

  app.get(
    '/api/alerts/:id',
    { schema: { tags: ['alerts'], params: IdParams }, config: { permission: 'read' } },
    async (req) => {
      await visibleAlert(req, req.params.id)
      return visibleUntargeted(s, req.actor, await alerts.view(req.params.id))
    },
  )

  /**
   * Server-Sent Events: `counts` whenever acknowledgements move them (at most one event per throttle interval), then
   * `end` once the alert is over. A withdrawn or expired alert lingers briefly so the last acks still show.
   */
  app.get(
    '/api/alerts/:id/stream',
    { schema: { tags: ['alerts'], params: IdParams }, config: { permission: 'read' } },
    async (req, reply) => {
      await visibleAlert(req, req.params.id) // 404 before the stream starts
      stream(req.params.id, req, reply)
    },
  )
}

/** registerAlertRoutes as a Fastify plugin (server/plugin.ts). */
export const alertRoutes = loaPlugin('loa-alert-routes', registerAlertRoutes)
