import fs from 'node:fs/promises'
import { Type } from '@fastify/type-provider-typebox'
import { BulletinLevel, EntityId } from '@loa/shared'
import type { FastifyRequest } from 'fastify'
import { can } from '../access/policy.js'
import { actorOf } from '../access/request-actor.js'
import { createBulletin } from '../bulletins/workflow.js'
import { assertActsOn, defaultUnit } from '../bulletins/workflow-scope.js'
import type { App, Services } from '../context.js'
import { type MediaJob, ownerOf } from '../media/lanes.js'
import { invalid } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import { loaPlugin } from '../server/plugin.js'
import { speakToMedia, withTempFile } from './speech-media.js'

const Text = Type.String({ minLength: 1, maxLength: 4000 })
const VoiceId = Type.String({ minLength: 1, maxLength: 100 })

/** What the engine wrote, by its first bytes (engines differ: WAV, MP3, Ogg). */
function sniffMime(buf: Buffer): string {
  if (buf.subarray(0, 4).toString('latin1') === 'RIFF') return 'audio/wav'
  if (buf.subarray(0, 4).toString('latin1') === 'OggS') return 'audio/ogg'
  if (
    buf.subarray(0, 3).toString('latin1') === 'ID3' ||
    (buf[0] === 0xff && ((buf[1] ?? 0) & 0xe0) === 0xe0)
  ) {
    return 'audio/mpeg'
  }
  return 'application/octet-stream'
}

/** Ordinary speech counts against the caller's unit (or the caller): media/lanes.ts. */
const ordinary = (req: FastifyRequest): MediaJob => ({ lane: 'ordinary', owner: ownerOf(actorOf(req)) })

/** What the TTS routes use of the services (app.ts passes exactly these). */
export type TtsRoutesDeps = Pick<Services, 'config' | 'lanes' | 'repos' | 'tts'>

export function registerTtsRoutes(app: App, s: TtsRoutesDeps): void {
  app.get('/api/tts/voices', { schema: { tags: ['tts'] }, config: { permission: 'read' } }, async () => ({
    voices: s.tts.voices(),
    defaultVoice: s.tts.defaultVoice,
  }))

  app.post(
    '/api/tts/normalize',
    {
      schema: {
        tags: ['tts'],
        body: Type.Object({ text: Text, voice: Type.Optional(VoiceId) }, { additionalProperties: false }),
      },
      config: { permission: 'read' },
    },
    async (req) => {
      const normalizedText = s.tts.normalize(req.body.text, req.body.voice)
      // `text` too: the console's first draft read that name.
      return { normalizedText, text: normalizedText }
    },
  )

  app.post(
    '/api/tts/preview',
    {
      schema: {
        tags: ['tts'],
        description: 'The spoken audio as is (WAV from espeak-ng); ?format=json wraps it in base64',
        querystring: Type.Object({
          format: Type.Optional(Type.Union([Type.Literal('audio'), Type.Literal('json')])),
        }),
        body: Type.Object({ text: Text, voice: Type.Optional(VoiceId) }, { additionalProperties: false }),
      },
      config: { permission: 'content' },
    },
    async (req, reply) => {
      const { audio, normalizedText, voice } = await s.lanes.run(ordinary(req), (slot) =>
        withTempFile(s, async (file) => {
          const r = await s.tts.speak(req.body.text, req.body.voice, file, { nice: slot.nice })
          return { ...r, audio: await fs.readFile(file) }
        }),
      )
      const mime = sniffMime(audio)
      if (req.query.format === 'json') {
        return { voice, normalizedText, mime, audioBase64: audio.toString('base64') }
      }
      reply.header('X-Loa-Voice', voice)
      // Headers are ASCII: the text is percent-encoded.
      reply.header('X-Loa-Normalized-Text', encodeURIComponent(normalizedText).slice(0, 7000))
      reply.header('Cache-Control', 'no-store')
      return reply.type(mime).send(audio)
    },
  )

  app.post(
    '/api/tts',
    {
      schema: {
        tags: ['tts', 'media'],
        description:
          'Speaks the text into the media library (no bulletin): the media record and the spoken text',
        body: Type.Object({ text: Text, voice: Type.Optional(VoiceId) }, { additionalProperties: false }),
      },
      config: { permission: 'content' },
    },
    async (req, reply) => {
      const r = await speakToMedia(s, req.body.text, req.body.voice, ordinary(req), actorOf(req))
      return reply.status(201).send({ ...r.media, normalizedText: r.normalizedText, voice: r.voice })
    },
  )

  app.post(
    '/api/tts/bulletins',
    {
      schema: {
        tags: ['tts', 'bulletins'],
        body: Type.Object(
          {
            id: Type.Optional(EntityId),
            text: Text,
            voice: Type.Optional(VoiceId),
            title: PlainText({ minLength: 1, maxLength: 200 }),
            level: Type.Optional(BulletinLevel),
            unitId: Type.Optional(EntityId),
          },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'content' },
    },
    async (req, reply) => {
      const b = req.body
      // Checked before synthesis, which is the expensive part.
      const unitId = await defaultUnit(s, actorOf(req), b.unitId)
      if (unitId !== undefined) await assertActsOn(s, actorOf(req), unitId, 'unitId')
      if (unitId !== undefined && !(await s.repos.units.get(unitId))) {
        throw invalid('unitId', `unit "${unitId}" not found`)
      }
      // An emergency bulletin spoken by someone who may raise alerts is alert audio: it takes the alert lane.
      const forAlert = b.level === 'emergency' && can(actorOf(req), 'emergency')
      const job: MediaJob = forAlert ? { lane: 'alert', owner: ownerOf(actorOf(req)) } : ordinary(req)
      const { media, normalizedText, voice } = await speakToMedia(s, b.text, b.voice, job, actorOf(req))
      const bulletin = await createBulletin(
        s,
        {
          id: b.id,
          title: b.title,
          level: b.level ?? 'normal',
          mediaSha256: media.sha256,
          unitId: b.unitId,
          text: b.text,
          voice,
        },
        actorOf(req),
      )
      return reply.status(201).send({ bulletin, media, normalizedText })
    },
  )
}

/** registerTtsRoutes as a Fastify plugin (server/plugin.ts). */
export const ttsRoutes = loaPlugin('loa-tts-routes', registerTtsRoutes)
