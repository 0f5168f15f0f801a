import { randomUUID } from 'node:crypto'
import { Type } from '@fastify/type-provider-typebox'
import { BulletinLevel, EntityId, Sha256Hex } from '@loa/shared'
import type { App, Services } from './context.js'
import { invalid, LoaError } from './errors.js'

const Title = Type.String({ minLength: 1, maxLength: 200 })

export function registerContentRoutes(app: App, s: Services): void {
  const { content, media } = s.repos

  app.post(
    '/api/bulletins',
    {
      schema: {
        tags: ['bulletins'],
        body: Type.Object(
          { id: Type.Optional(EntityId), title: Title, level: BulletinLevel, mediaSha256: Sha256Hex },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'content', audit: 'bulletin.create' },
    },
    async (req, reply) => {
      const b = req.body
      if (!(await media.get(b.mediaSha256)))
        throw invalid('mediaSha256', `media "${b.mediaSha256}" not found`)
      const id = b.id ?? `b-${randomUUID()}`
      if (await content.getBulletin(id))
        throw new LoaError('LOA_CONFLICT', `id: bulletin "${id}" already exists`)
      const bulletin = await content.createBulletin({
        id,
        title: b.title,
        level: b.level,
        mediaSha256: b.mediaSha256,
      })
      return reply.status(201).send(bulletin)
    },
  )

  app.get(
    '/api/bulletins',
    { schema: { tags: ['bulletins'] }, config: { permission: 'read' } },
    async () => ({
      bulletins: await content.listBulletins(),
    }),
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
            bulletinIds: Type.Array(EntityId, { minItems: 1, maxItems: 200 }),
          },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'content', audit: 'playlist.create' },
    },
    async (req, reply) => {
      const b = req.body
      for (const [i, id] of b.bulletinIds.entries()) {
        if (!(await content.getBulletin(id))) throw invalid(`bulletinIds[${i}]`, `bulletin "${id}" not found`)
      }
      const id = b.id ?? `p-${randomUUID()}`
      if (await content.getPlaylist(id))
        throw new LoaError('LOA_CONFLICT', `id: playlist "${id}" already exists`)
      const playlist = await content.createPlaylist({ id, title: b.title, bulletinIds: b.bulletinIds })
      return reply.status(201).send(playlist)
    },
  )

  app.get(
    '/api/playlists',
    { schema: { tags: ['playlists'] }, config: { permission: 'read' } },
    async () => ({
      playlists: await content.listPlaylists(),
    }),
  )
}
