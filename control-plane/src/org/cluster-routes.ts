import { Type } from '@fastify/type-provider-typebox'
import { CommandKind, EntityId, Percent, TestSpec } from '@loa/shared'
import type { FastifyRequest } from 'fastify'
import { clusterVisible, scopeUnitIds } from '../access/policy.js'
import { assertClusterInScope, assertUnitInScope } from '../access/request-policy.js'
import { visibleStation } from '../access/scope-refs.js'
import { sendClusterCommand } from '../commands/send.js'
import { visibleUntargeted } from '../commands/untargeted-view.js'
import type { App, Services } from '../context.js'
import { invalid, LoaError, notFound } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import { loaPlugin } from '../server/plugin.js'
import { ClusterSchema } from '../server/schemas.js'
import { telemetryView } from '../uplink/telemetry-series.js'
import type { ClusterInput } from './model.js'

const Zone = Type.Object(
  { id: EntityId, name: PlainText({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
)
const Tag = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' })
const ClusterFields = {
  name: PlainText({ minLength: 1, maxLength: 200 }),
  unitId: EntityId,
  stationId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  zones: Type.Optional(Type.Array(Zone, { maxItems: 16 })),
  tags: Type.Optional(Type.Array(Tag, { maxItems: 32, uniqueItems: true })),
  lat: Type.Optional(Type.Union([Type.Number({ minimum: -90, maximum: 90 }), Type.Null()])),
  lon: Type.Optional(Type.Union([Type.Number({ minimum: -180, maximum: 180 }), Type.Null()])),
  volume: Type.Optional(Type.Union([Percent, Type.Null()])),
}
const ClusterBody = Type.Object({ id: EntityId, ...ClusterFields }, { additionalProperties: false })
const ClusterPatch = Type.Partial(Type.Object(ClusterFields), { additionalProperties: false })
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

/** What cluster routes use of the services (app.ts passes exactly these). */
export type ClusterRoutesDeps = Pick<Services, 'desired' | 'fanout' | 'ingest' | 'mqtt' | 'repos'>

export function registerClusterRoutes(app: App, s: ClusterRoutesDeps): void {
  const { clusters, units, desired, ingest } = s.repos

  const checkRefs = async (req: FastifyRequest, b: { unitId?: string; stationId?: string | null }) => {
    if (b.unitId !== undefined && !(await units.get(b.unitId))) {
      throw invalid('unitId', `unit "${b.unitId}" not found`)
    }
    // Another commune's station is answered as an unknown one.
    if (b.stationId && !(await visibleStation(s, req.actor, b.stationId))) {
      throw invalid('stationId', `station "${b.stationId}" not found`)
    }
  }

  app.post(
    '/api/clusters',
    {
      schema: { tags: ['clusters'], body: ClusterBody, response: { 201: ClusterSchema } },
      config: { permission: 'admin-devices', audit: 'cluster.create' },
    },
    async (req, reply) => {
      const b = req.body
      await assertUnitInScope(s, req, b.unitId)
      await checkRefs(req, b)
      if (await clusters.get(b.id)) throw new LoaError('LOA_CONFLICT', `id: cluster "${b.id}" already exists`)
      const input: ClusterInput = {
        id: b.id,
        name: b.name,
        unitId: b.unitId,
        stationId: b.stationId ?? null,
        zones: b.zones ?? [],
        tags: b.tags ?? [],
        lat: b.lat ?? null,
        lon: b.lon ?? null,
        volume: b.volume ?? null,
      }
      const cluster = await clusters.create(input)
      s.ingest.addKnown(cluster.id)
      await s.desired.changed([cluster.id])
      return reply.status(201).send((await clusters.get(cluster.id)) ?? cluster)
    },
  )

  app.get(
    '/api/clusters',
    {
      schema: {
        tags: ['clusters'],
        querystring: Type.Object({ unitId: Type.Optional(Type.String()), tag: Type.Optional(Type.String()) }),
        response: { 200: Type.Object({ clusters: Type.Array(ClusterSchema) }) },
      },
      config: { permission: 'read' },
    },
    async (req) => {
      const scope = await scopeUnitIds(s, req.actor)
      let unitIds = req.query.unitId !== undefined ? await units.subtreeIds(req.query.unitId) : undefined
      if (scope !== null) unitIds = (unitIds ?? [...scope]).filter((u) => scope.has(u))
      return { clusters: await clusters.list({ unitIds, tag: req.query.tag }) }
    },
  )

  app.get(
    '/api/clusters/:id',
    { schema: { tags: ['clusters'], params: IdParams }, config: { permission: 'read' } },
    async (req) => {
      await assertClusterInScope(s, req, req.params.id, 'read')
      const c = await clusters.get(req.params.id)
      if (!c) throw notFound('cluster', req.params.id)
      // Set while its newest state breaks a limit its agent enforces: it keeps (and is sent) its last valid one.
      return { ...c, desiredProblem: s.desired.problemOf(c.id) }
    },
  )

  app.patch(
    '/api/clusters/:id',
    {
      schema: { tags: ['clusters'], params: IdParams, body: ClusterPatch },
      config: { permission: 'admin-devices', audit: 'cluster.update' },
    },
    async (req) => {
      await assertClusterInScope(s, req, req.params.id, 'read')
      if (req.body.unitId !== undefined) await assertUnitInScope(s, req, req.body.unitId)
      await checkRefs(req, req.body)
      const before = await clusters.get(req.params.id)
      const c = await clusters.update(req.params.id, req.body)
      if (!before || !c) throw notFound('cluster', req.params.id)
      // Another unit or other tags bring other schedules: refused, and put back, if its state would break a limit.
      const undo = Object.fromEntries(Object.keys(req.body).map((k) => [k, before[k as keyof typeof before]]))
      await s.desired.admit([c.id], () => clusters.update(c.id, undo))
      return (await clusters.get(c.id)) ?? c
    },
  )

  app.get(
    '/api/clusters/:id/desired-state',
    { schema: { tags: ['clusters'], params: IdParams }, config: { permission: 'read' } },
    async (req) => {
      await assertClusterInScope(s, req, req.params.id, 'read')
      await s.desired.settle()
      const d = await desired.get(req.params.id)
      if (!d) throw notFound('desired state of cluster', req.params.id)
      return d.body
    },
  )

  app.get(
    '/api/clusters/:id/telemetry',
    {
      schema: {
        tags: ['clusters'],
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
        }),
      },
      config: { permission: 'read' },
    },
    async (req) => {
      await assertClusterInScope(s, req, req.params.id, 'read')
      const c = await clusters.get(req.params.id)
      if (!c) throw notFound('cluster', req.params.id)
      return telemetryView(s, c.id, req.query)
    },
  )

  app.post(
    '/api/clusters/:id/commands',
    {
      schema: {
        tags: ['commands'],
        params: IdParams,
        body: Type.Object(
          {
            kind: Type.Union([CommandKind, Type.Literal('test')]),
            // Required with kind `test` (a tone on one zone or all), refused otherwise.
            test: Type.Optional(TestSpec),
            deadlineS: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 86_400 })),
          },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'live', audit: 'command.send' },
    },
    async (req, reply) => {
      await assertClusterInScope(s, req, req.params.id, 'read')
      const c = await clusters.get(req.params.id)
      if (!c) throw notFound('cluster', req.params.id)
      const { kind, test } = req.body
      if ((kind === 'test') !== (test !== undefined))
        throw invalid('test', 'required with kind "test" and only then')
      const sent = await sendClusterCommand({ mqtt: s.mqtt, fanout: s.fanout, ingest }, c.id, {
        kind,
        test,
        deadlineS: req.body.deadlineS,
      })
      return reply.status(202).send(sent)
    },
  )

  app.get(
    '/api/commands/:commandId',
    {
      schema: { tags: ['commands'], params: Type.Object({ commandId: Type.String({ maxLength: 64 }) }) },
      config: { permission: 'read' },
    },
    async (req) => {
      const cmd = await ingest.getCommand(req.params.commandId)
      if (!cmd || !(await clusterVisible(s, req.actor, cmd.clusterId)))
        throw notFound('command', req.params.commandId)
      return visibleUntargeted(s, req.actor, {
        commandId: cmd.id,
        clusterId: cmd.clusterId,
        kind: cmd.kind,
        deadline: cmd.deadline,
        acks: await ingest.listAcks(cmd.id),
        // Acks from any other cluster (the command replayed elsewhere): recorded, not counted as acks.
        untargeted: await ingest.listUntargeted('command', cmd.id),
      })
    },
  )
}

/** registerClusterRoutes as a Fastify plugin (server/plugin.ts). */
export const clusterRoutes = loaPlugin('loa-cluster-routes', registerClusterRoutes)
