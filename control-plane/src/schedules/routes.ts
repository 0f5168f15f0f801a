import { randomUUID } from 'node:crypto'
import { Type } from '@fastify/type-provider-typebox'
import {
  DESIRED_LIMITS,
  defaultPriority,
  EntityId,
  IntervalRecurrence,
  OnceRecurrence,
  Percent,
  Priority,
  Recurrence,
  recurrenceProblems,
  WeeklyRecurrence,
} from '@loa/shared'
import { Value } from '@sinclair/typebox/value'
import { targetsVisible } from '../access/policy.js'
import { assertTargetsInScope } from '../access/request-policy.js'
import { visibleBulletin, visiblePlaylist } from '../access/scope-refs.js'
import { assertApproved } from '../bulletins/workflow.js'
import type { App, Services } from '../context.js'
import { targetsScope } from '../desired/state.js'
import { checkTargetsExist, plainTargets, TargetsBody } from '../org/targets-input.js'
import { closeRequestedLedger } from '../reports/requested-ledger.js'
import { fieldName, LoaError, notFound, validationMessage } from '../server/errors.js'
import { PlainText } from '../server/plain-text.js'
import { loaPlugin } from '../server/plugin.js'
import { ScheduleSchema } from '../server/schemas.js'

const ScheduleBody = Type.Object(
  {
    id: Type.Optional(EntityId),
    title: Type.Optional(PlainText({ maxLength: DESIRED_LIMITS.titleLength })),
    bulletinId: Type.Optional(EntityId),
    playlistId: Type.Optional(EntityId),
    recurrence: Recurrence,
    targets: TargetsBody,
    priority: Type.Optional(Priority),
    volume: Type.Optional(Percent),
  },
  { additionalProperties: false },
)

const BRANCHES = { once: OnceRecurrence, weekly: WeeklyRecurrence, interval: IntervalRecurrence } as const

const bad = (message: string) => new LoaError('LOA_SCHEDULE_INVALID', message)

/**
 * A union schema makes the validator report every branch's complaint; pick the branch the client meant (by `kind`)
 * so the message names the one field that is wrong, e.g. `recurrence.times[0]`.
 */
function recurrenceMessage(body: unknown): string | null {
  const r = (body as { recurrence?: unknown } | null)?.recurrence
  if (typeof r !== 'object' || r === null) return 'recurrence: required object'
  const kind = (r as { kind?: unknown }).kind
  const schema = BRANCHES[kind as keyof typeof BRANCHES]
  if (!schema) return `recurrence.kind: must be one of ${Object.keys(BRANCHES).join(', ')}`
  const first = Value.Errors(schema, r).First()
  if (!first) return null
  const field = fieldName(first.path)
  return `recurrence${field && !field.startsWith('[') ? '.' : ''}${field}: ${first.message}`
}

/** A schema failure of a body with a `recurrence`, as `field: problem` naming the one field that is wrong. */
export function bodyProblem(
  err: { validation?: { instancePath: string }[]; message: string },
  body: unknown,
): string {
  const aboutRecurrence = (err.validation ?? []).some((v) => v.instancePath.startsWith('/recurrence'))
  return (aboutRecurrence && recurrenceMessage(body)) || validationMessage(err.validation, err.message)
}

/** What schedule routes use of the services (app.ts passes exactly these). */
export type ScheduleRoutesDeps = Pick<Services, 'config' | 'desired' | 'repos'>

export function registerScheduleRoutes(app: App, s: ScheduleRoutesDeps): void {
  const { schedules, content } = s.repos

  app.post(
    '/api/schedules',
    {
      schema: { tags: ['schedules'], body: ScheduleBody, response: { 201: ScheduleSchema } },
      attachValidation: true,
      config: { permission: 'content', audit: 'schedule.create' },
    },
    async (req, reply) => {
      if (req.validationError) throw bad(bodyProblem(req.validationError, req.body))
      const b = req.body
      const problems = recurrenceProblems(b.recurrence)
      if (problems[0]) throw bad(problems[0])
      if ((b.bulletinId === undefined) === (b.playlistId === undefined)) {
        throw bad('bulletinId: give exactly one of bulletinId or playlistId')
      }
      let level: 'normal' | 'priority' | 'emergency' = 'normal'
      let title = b.title ?? ''
      if (b.bulletinId !== undefined) {
        const bulletin = await visibleBulletin(s, req.actor, b.bulletinId)
        if (!bulletin) throw bad(`bulletinId: bulletin "${b.bulletinId}" not found`)
        assertApproved(bulletin)
        level = bulletin.level
        title ||= bulletin.title
      } else {
        const playlist = await visiblePlaylist(s, req.actor, b.playlistId as string)
        if (!playlist) throw bad(`playlistId: playlist "${b.playlistId}" not found`)
        const members = await Promise.all(playlist.bulletinIds.map((id) => content.getBulletin(id)))
        for (const m of members) if (m) assertApproved(m, 'playlistId')
        const levels = members.map((m) => m?.level)
        level = levels.includes('emergency')
          ? 'emergency'
          : levels.includes('priority')
            ? 'priority'
            : 'normal'
        title ||= playlist.title
      }
      const targets = plainTargets(b.targets, bad)
      await assertTargetsInScope(s, req, targets)
      await checkTargetsExist(s.repos, targets, bad)
      const id = b.id ?? `s-${randomUUID()}`
      if (await schedules.get(id)) throw new LoaError('LOA_CONFLICT', `id: schedule "${id}" already exists`)
      const schedule = await schedules.create({
        id,
        title: title.slice(0, DESIRED_LIMITS.titleLength),
        bulletinId: b.bulletinId ?? null,
        playlistId: b.playlistId ?? null,
        recurrence: b.recurrence,
        targets,
        priority: b.priority ?? defaultPriority(level),
        volume: b.volume ?? null,
        enabled: true,
      })
      // Refused, and undone, when a targeted cluster's state would break a limit its agent enforces.
      await s.desired.admit(targetsScope(targets), () => schedules.delete(id))
      return reply.status(201).send({ ...schedule, level })
    },
  )

  app.get(
    '/api/schedules',
    {
      schema: {
        tags: ['schedules'],
        response: { 200: Type.Object({ schedules: Type.Array(ScheduleSchema) }) },
      },
      config: { permission: 'read' },
    },
    async (req) => {
      const all = await schedules.list()
      const shown = await Promise.all(all.map((sc) => targetsVisible(s, req.actor, sc.targets)))
      return { schedules: all.filter((_, i) => shown[i]) }
    },
  )

  app.get(
    '/api/schedules/:id',
    {
      schema: { tags: ['schedules'], params: Type.Object({ id: Type.String({ maxLength: 64 }) }) },
      config: { permission: 'read' },
    },
    async (req) => {
      const sc = await schedules.get(req.params.id)
      if (!sc || !(await targetsVisible(s, req.actor, sc.targets))) throw notFound('schedule', req.params.id)
      return sc
    },
  )

  app.delete(
    '/api/schedules/:id',
    {
      schema: { tags: ['schedules'], params: Type.Object({ id: Type.String({ maxLength: 64 }) }) },
      config: { permission: 'content', audit: 'schedule.delete' },
    },
    async (req, reply) => {
      const sc = await schedules.get(req.params.id)
      if (!sc || !(await targetsVisible(s, req.actor, sc.targets))) throw notFound('schedule', req.params.id)
      // Cancelling a schedule that also plays outside one's scope is refused.
      await assertTargetsInScope(s, req, sc.targets)
      // What it already asked for stays in the reports.
      await closeRequestedLedger(s)
      if (!(await schedules.delete(req.params.id))) throw notFound('schedule', req.params.id)
      await s.desired.changed(targetsScope(sc.targets))
      return reply.status(204).send()
    },
  )
}

/** registerScheduleRoutes as a Fastify plugin (server/plugin.ts). */
export const scheduleRoutes = loaPlugin('loa-schedule-routes', registerScheduleRoutes)
