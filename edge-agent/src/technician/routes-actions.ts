import { randomUUID } from 'node:crypto'
import { createWriteStream, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Bands } from '@loa/shared'
import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { AgentError } from '../errors.js'
import { transcodeAnnouncement } from './audio.js'
import { sendError } from './http.js'
import { ALL_ZONES } from './plays.js'
import type { TechnicianActions, TechnicianConfig, TechnicianEvents } from './ports.js'

const ZoneParams = Type.Object({ zone: Type.String({ minLength: 1, maxLength: 64 }) })
const TestBody = Type.Object(
  {
    seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 })),
    frequencyHz: Type.Optional(Type.Integer({ minimum: 100, maximum: 4000 })),
  },
  { additionalProperties: false },
)
const AmpSwitchBody = Type.Object(
  { on: Type.Boolean(), seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })) },
  { additionalProperties: false },
)
const VolumeBody = Type.Object(
  { percent: Type.Integer({ minimum: 0, maximum: 100 }) },
  { additionalProperties: false },
)
/** The amplifier switched on by hand goes off by itself after this unless the request says otherwise. */
export const DEFAULT_HOLD_SECONDS = 60

const BY = 'technician'

/**
 * The technician's actions. Each becomes a local action through the scheduler's arbiter at its band (test 120,
 * local announcement 150, so an emergency always wins), and each outcome is an event sent to the province.
 */
export async function actionRoutes(
  app: FastifyInstance,
  ports: { config: TechnicianConfig; events: TechnicianEvents; actions: TechnicianActions },
): Promise<void> {
  const { config, events, actions: box } = ports
  const local = box.local
  const zoneKnown = (zone: string) => box.zones().some((z) => z.id === zone)

  app.post<{ Params: Static<typeof ZoneParams>; Body: Static<typeof TestBody> }>(
    '/api/zones/:zone/test',
    { schema: { params: ZoneParams, body: TestBody } },
    async (req, reply) => {
      const { zone } = req.params
      if (!zoneKnown(zone)) return sendError(reply, 404, 'LOA_AGENT_ZONE_UNKNOWN', { zone })
      const spec = {
        zone,
        seconds: req.body?.seconds ?? 5,
        ...(req.body?.frequencyHz ? { frequencyHz: req.body.frequencyHz } : {}),
      }
      const { actions } = await box.testTone(spec, BY)
      return reply.status(202).send({ actions })
    },
  )

  app.post<{ Params: Static<typeof ZoneParams>; Body: Static<typeof AmpSwitchBody> }>(
    // The path (a contract) means the zone's amplifier switch.
    '/api/zones/:zone/relay',
    { schema: { params: ZoneParams, body: AmpSwitchBody } },
    async (req, reply) => {
      const { zone } = req.params
      if (!zoneKnown(zone)) return sendError(reply, 404, 'LOA_AGENT_ZONE_UNKNOWN', { zone })
      if (!req.body.on) {
        // Off: end the holds on this zone; what the schedule or an alert plays is not the technician's to stop.
        const held = local
          .recent()
          .filter(
            (a) => a.kind === 'relay' && a.zone === zone && (a.status === 'queued' || a.status === 'playing'),
          )
        for (const a of held) local.cancel(a.id, 'switched off by the technician')
        return reply.send({ cancelled: held.map((a) => a.id) })
      }
      const max = config.localPage?.maxRelaySeconds ?? 300
      const seconds = Math.min(req.body.seconds ?? DEFAULT_HOLD_SECONDS, max)
      const { action } = local.request({
        kind: 'relay',
        zone,
        by: BY,
        title: `Bật loa ${zone} (${seconds} s)`,
        priority: Bands.test,
        seconds,
      })
      return reply.status(202).send({ action, maxSeconds: max })
    },
  )

  app.post<{ Params: Static<typeof ZoneParams>; Body: Static<typeof VolumeBody> }>(
    '/api/zones/:zone/volume',
    { schema: { params: ZoneParams, body: VolumeBody } },
    async (req, reply) => {
      const { zone } = req.params
      if (!zoneKnown(zone)) return sendError(reply, 404, 'LOA_AGENT_ZONE_UNKNOWN', { zone })
      await box.setVolume(zone, req.body.percent)
      events.event('local-action', 'info', `volume ${zone} ${req.body.percent}% by ${BY}`, {
        kind: 'volume',
        zone,
        by: BY,
        percent: req.body.percent,
        outcome: 'done',
        at: new Date(box.now()).toISOString(),
      })
      return reply.send({ zones: box.zones() })
    },
  )

  app.post<{ Params: { id: string } }>(
    '/api/actions/:id/cancel',
    { schema: { params: Type.Object({ id: Type.String({ pattern: '^local-[a-f0-9]{8}$' }) }) } },
    async (req, reply) => {
      if (!local.cancel(req.params.id, 'cancelled by the technician')) {
        return sendError(reply, 404, 'LOA_LOCAL_NOT_FOUND')
      }
      return reply.send({ action: local.get(req.params.id) })
    },
  )

  app.post('/api/announcements', async (req, reply) => {
    if (!req.isMultipart())
      return sendError(reply, 400, 'LOA_LOCAL_BAD_REQUEST', { details: ['multipart upload expected'] })
    // Refused before anything is written or transcoded.
    if (local.busy) return sendError(reply, 429, 'LOA_LOCAL_BUSY')
    const file = await req.file().catch(() => undefined)
    if (!file) return sendError(reply, 400, 'LOA_LOCAL_BAD_REQUEST', { details: ['no file in the upload'] })
    const dir = join(config.dataDir, 'local')
    const uploads = join(dir, 'uploads')
    mkdirSync(uploads, { recursive: true })
    // The client's file name is never used on disk (nor trusted anywhere): files are named by a random id.
    const id = randomUUID()
    const raw = join(uploads, `${id}.upload`)
    try {
      const out = createWriteStream(raw)
      const broken = await pipeline(file.file, out).then(
        () => null,
        (err: Error) => err.message,
      )
      // A stream destroyed before its file was opened still opens it: wait, or the file outlives the rmSync below.
      if (!out.closed) await new Promise<void>((r) => out.once('close', () => r()))
      if (broken)
        return sendError(reply, 400, 'LOA_LOCAL_BAD_REQUEST', { details: [`upload broken off: ${broken}`] })
      if (file.file.truncated) return sendError(reply, 413, 'LOA_LOCAL_TOO_LARGE')
      const audio = await transcodeAnnouncement(raw, join(dir, 'announcements'), id)
      const seconds = Math.ceil(audio.durationMs / 1000)
      if (local.busy) rmSync(audio.path, { force: true })
      const { action } = local.request({
        kind: 'announcement',
        zone: ALL_ZONES,
        by: BY,
        title: 'Thông báo tại chỗ',
        priority: Bands.localAnnouncement,
        seconds,
        audio: { path: audio.path, sha256: audio.sha256, deleteAfter: true },
      })
      return reply.status(202).send({ action, durationMs: audio.durationMs })
    } catch (err) {
      if (err instanceof AgentError && err.code === 'LOA_LOCAL_AUDIO_INVALID') {
        events.event('local-action', 'warning', `announcement upload refused: ${err.message}`, {
          kind: 'announcement',
          by: BY,
          outcome: 'refused',
          reason: err.details.join('; ').slice(0, 300),
        })
        return sendError(reply, 400, 'LOA_LOCAL_AUDIO_INVALID', { details: err.details })
      }
      throw err
    } finally {
      rmSync(raw, { force: true })
    }
  })
}
