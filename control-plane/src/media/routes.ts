import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Type } from '@fastify/type-provider-typebox'
import { Sha256Hex } from '@loa/shared'
import type { FastifyRequest } from 'fastify'
import { actorOf } from '../access/request-actor.js'
import { mediaOwnerOf, visibleMedia, visibleMediaHashes } from '../access/scope-refs.js'
import type { App, Services } from '../context.js'
import { errorBody, LoaError, notFound } from '../server/errors.js'
import { loaPlugin } from '../server/plugin.js'
import { MediaSchema } from '../server/schemas.js'
import { transcodeAndStore } from './import.js'
import { type MediaLane, ownerOf } from './lanes.js'
import type { Media } from './model.js'
import { sanitiseFileName } from './pipeline.js'

export function mediaDir(s: Pick<Services, 'config'>): string {
  return path.join(s.config.dataDir, 'media')
}
function tmpDir(s: Pick<Services, 'config'>): string {
  return path.join(s.config.dataDir, 'tmp')
}

const mediaView = (m: Media, deduplicated: boolean) => ({ ...m, deduplicated })

/**
 * Receives one multipart upload (field "file") into a temp file, hashing it as it streams, and puts it through the
 * pipeline in a slot of `lane`. Temp files are removed before the reply is sent, whatever happened; a refused file
 * leaves no media file and no row.
 */
async function receiveUpload(
  s: Pick<Services, 'config' | 'lanes' | 'repos'>,
  req: FastifyRequest,
  lane: MediaLane,
) {
  if (!req.isMultipart()) throw new LoaError('LOA_MEDIA_MISSING_FILE', 'file: expected multipart/form-data')
  const job = { lane, owner: ownerOf(actorOf(req)) }
  s.lanes.assertAdmissible(job)
  const part = await req.file()
  if (part?.fieldname !== 'file') throw new LoaError('LOA_MEDIA_MISSING_FILE', 'file: missing')
  const originalName = sanitiseFileName(part.filename)
  await fs.mkdir(tmpDir(s), { recursive: true })
  await fs.mkdir(mediaDir(s), { recursive: true })
  // Temp names are ours, never derived from the upload.
  const source = path.join(tmpDir(s), `${randomUUID()}.src`)
  const output = path.join(tmpDir(s), `${randomUUID()}.out`)
  try {
    const hash = createHash('sha256')
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk)
        cb(null, chunk)
      },
    })
    let tooLarge = false
    try {
      await pipeline(part.file, tap, createWriteStream(source))
    } catch (err) {
      if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') tooLarge = true
      else throw err
    }
    if (tooLarge || part.file.truncated) {
      throw new LoaError('LOA_MEDIA_TOO_LARGE', `file: larger than ${s.config.maxUploadMb} MB`)
    }
    const sourceSha = hash.digest('hex')
    const known = await s.repos.media.getBySource(sourceSha)
    const stored = known
      ? { media: known, existed: true }
      : await s.lanes.run(job, (slot) => transcodeAndStore(s, source, sourceSha, output, originalName, slot))
    // "Deduplicated" only when the uploader could already see it: another commune's upload of the same file is
    // not revealed. From now on the uploader's unit owns it too.
    const seen = stored.existed && (await visibleMedia(s, req.actor, stored.media.sha256)) !== null
    await s.repos.media.addOwner(stored.media.sha256, await mediaOwnerOf(s, req.actor))
    return mediaView(stored.media, seen)
  } finally {
    await fs.rm(source, { force: true })
    await fs.rm(output, { force: true })
  }
}

const uploadSchema = (description: string) => ({
  tags: ['media'],
  consumes: ['multipart/form-data'],
  description,
})

/** What media routes use of the services (app.ts passes exactly these). */
export type MediaRoutesDeps = Pick<Services, 'config' | 'lanes' | 'repos'>

export function registerMediaRoutes(app: App, s: MediaRoutesDeps): void {
  app.post(
    '/api/media',
    {
      schema: uploadSchema('multipart upload, field "file"; transcoded in the ordinary media lane'),
      config: { permission: 'content', audit: 'media.upload' },
    },
    async (req, reply) => reply.status(201).send(await receiveUpload(s, req, 'ordinary')),
  )

  app.post(
    '/api/alerts/media',
    {
      schema: uploadSchema(
        'audio for an alert about to be raised: multipart upload, field "file"; transcoded in the alert lane, ' +
          'which ordinary uploads never occupy (docs/alerts.md)',
      ),
      config: { permission: 'emergency', audit: 'media.upload' },
    },
    async (req, reply) => reply.status(201).send(await receiveUpload(s, req, 'alert')),
  )

  app.get(
    '/api/media',
    {
      schema: { tags: ['media'], response: { 200: Type.Object({ media: Type.Array(MediaSchema) }) } },
      config: { permission: 'read' },
    },
    async (req) => {
      const all = await s.repos.media.list()
      const shown = await visibleMediaHashes(s, req.actor)
      return { media: shown === null ? all : all.filter((m) => shown.has(m.sha256)) }
    },
  )

  app.get(
    '/media/:sha256',
    {
      schema: { tags: ['media'], params: Type.Object({ sha256: Sha256Hex }) },
      // Agents download media with their device credentials; operators with their session or token.
      config: { permission: 'read', device: true },
    },
    async (req, reply) => {
      const sha = req.params.sha256
      // Devices download whatever they were sent; people only media of their scope.
      const media = await visibleMedia(s, req.actor, sha)
      if (!media) throw notFound('media', sha)
      // The file name is the validated hex digest: no user input reaches the path.
      const file = path.join(mediaDir(s), sha)
      let size: number
      try {
        size = (await fs.stat(file)).size
      } catch {
        throw notFound('media file', sha)
      }
      const etag = `"${sha}"`
      reply.header('ETag', etag)
      reply.header('Accept-Ranges', 'bytes')
      // private: a shared cache must not hand one commune's media to another's reader.
      reply.header('Cache-Control', 'private, max-age=31536000, immutable')
      reply.type(media.mime)
      if (req.headers['if-none-match'] === etag) return reply.status(304).send()
      const range = req.headers.range
      if (
        range !== undefined &&
        (req.headers['if-range'] === undefined || req.headers['if-range'] === etag)
      ) {
        const r = parseRange(range, size)
        if (r === 'unsatisfiable') {
          reply.header('Content-Range', `bytes */${size}`)
          return reply
            .status(416)
            .type('application/json')
            .send(
              errorBody(
                416,
                'LOA_RANGE_NOT_SATISFIABLE',
                `range: "${range.slice(0, 100)}" outside 0-${size - 1}`,
              ),
            )
        }
        if (r !== null) {
          reply.header('Content-Range', `bytes ${r.start}-${r.end}/${size}`)
          reply.header('Content-Length', r.end - r.start + 1)
          return reply.status(206).send(createReadStream(file, { start: r.start, end: r.end }))
        }
      }
      reply.header('Content-Length', size)
      return reply.send(createReadStream(file))
    },
  )
}

/**
 * One `bytes=` range (RFC 9110). Multiple ranges are answered with the whole file (allowed by the RFC); a syntactically
 * valid range that lies outside the file, or a malformed one, is unsatisfiable.
 */
export function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m) return header.startsWith('bytes=') && header.includes(',') ? null : 'unsatisfiable'
  const [, a, b] = m as unknown as [string, string, string]
  if (a === '' && b === '') return 'unsatisfiable'
  let start: number
  let end: number
  if (a === '') {
    const suffix = Number(b)
    if (suffix === 0) return 'unsatisfiable'
    start = Math.max(0, size - suffix)
    end = size - 1
  } else {
    start = Number(a)
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1)
    if (b !== '' && Number(b) < start) return 'unsatisfiable'
  }
  if (start >= size || size === 0) return 'unsatisfiable'
  return { start, end }
}

/** registerMediaRoutes as a Fastify plugin (server/plugin.ts). */
export const mediaRoutes = loaPlugin('loa-media-routes', registerMediaRoutes)
