import { randomUUID } from 'node:crypto'
import { Type } from '@fastify/type-provider-typebox'
import { BulletinLevel, DESIRED_LIMITS, EntityId, Sha256Hex } from '@loa/shared'
import { actorOf } from '../access/request-actor.js'
import { bulletinVisible, playlistVisible, visibleBulletin } from '../access/scope-refs.js'
import type { App, Services } from '../context.js'
import { invalid, LoaError } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import { loaPlugin } from '../server/plugin.js'
import { createBulletin } from './workflow.js'
import { assertActsOn, defaultUnit } from './workflow-scope.js'

const Title = PlainText({ minLength: 1, maxLength: 200 })

/** What content routes use of the services (app.ts passes exactly these). */
export type ContentRoutesDeps = Pick<Services, 'repos'>

export function registerContentRoutes(app: App, s: ContentRoutesDeps): void {
  const { content } = s.repos

  app.post(
    '/api/bulletins',
    {
      schema: {
        tags: ['bulletins'],
        body: Type.Object(
          {
            id: Type.Optional(EntityId),
            title: Title,
            level: BulletinLevel,
            mediaSha256: Sha256Hex,
            unitId: Type.Optional(EntityId),
          },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'content', audit: 'bulletin.create' },
    },
    async (req, reply) => reply.status(201).send(await createBulletin(s, req.body, actorOf(req))),
  )

  app.get(
    '/api/bulletins',
    { schema: { tags: ['bulletins'] }, config: { permission: 'read' } },
    async (req) => {
      // Like GET /api/bulletins/:id: the scope's own, province-wide ones, and those sent to it.
      const all = await content.listBulletins()
      const shown = await Promise.all(all.map((b) => bulletinVisible(s, req.actor, b)))
      return { bulletins: all.filter((_, i) => shown[i]) }
    },
  )

  app.post(
    '/api/playlists',
    {
      schema: {
        tags: ['playlists'],
        body: Type.Object(
          {
            id: Type.Optional(EntityId),
            title: Title,
            bulletinIds: Type.Array(EntityId, { minItems: 1, maxItems: DESIRED_LIMITS.itemsPerEntry }),
            unitId: Type.Optional(EntityId),
          },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'content', audit: 'playlist.create' },
    },
    async (req, reply) => {
      const b = req.body
      // Like a bulletin: the caller's own unit unless it names one of its scope (docs/users-and-roles.md).
      const unitId = await defaultUnit(s, req.actor, b.unitId)
      if (unitId !== undefined) await assertActsOn(s, req.actor, unitId, 'unitId')
      if (unitId !== undefined && !(await s.repos.units.get(unitId)))
        throw invalid('unitId', `unit "${unitId}" not found`)
      // Another commune's bulletin is answered as an unknown one.
      for (const [i, id] of b.bulletinIds.entries()) {
        if (!(await visibleBulletin(s, req.actor, id)))
          throw invalid(`bulletinIds[${i}]`, `bulletin "${id}" not found`)
      }
      const id = b.id ?? `p-${randomUUID()}`
      if (await content.getPlaylist(id))
        throw new LoaError('LOA_CONFLICT', `id: playlist "${id}" already exists`)
      const playlist = await content.createPlaylist({
        id,
        title: b.title,
        bulletinIds: b.bulletinIds,
        unitId: unitId ?? null,
      })
      return reply.status(201).send(playlist)
    },
  )

  app.get(
    '/api/playlists',
    { schema: { tags: ['playlists'] }, config: { permission: 'read' } },
    async (req) => {
      const all = await content.listPlaylists()
      const shown = await Promise.all(all.map((p) => playlistVisible(s, req.actor, p)))
      return { playlists: all.filter((_, i) => shown[i]) }
    },
  )
}

/** registerContentRoutes as a Fastify plugin (server/plugin.ts). */
export const contentRoutes = loaPlugin('loa-content-routes', registerContentRoutes)
