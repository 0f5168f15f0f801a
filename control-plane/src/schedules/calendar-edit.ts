import { randomUUID } from 'node:crypto'
import { occurrencesBetween, type Recurrence } from '@loa/shared'
import type { Services } from '../context.js'
import { targetsScope } from '../desired/state.js'
import { closeRequestedLedger } from '../reports/requested-ledger.js'
import { LoaError, notFound } from '../server/errors.js'
import { buildCalendar, clustersReceiving } from './calendar.js'
import type { Schedule } from './model.js'
import { splitAround } from './split.js'

const bad = (m: string) => new LoaError('LOA_CALENDAR_INVALID', m)

function instant(value: string, field: string): Date {
  const t = Date.parse(value)
  if (Number.isNaN(t)) throw bad(`${field}: "${value}" is not a date-time`)
  return new Date(t)
}

async function occurrenceOf(s: Pick<Services, 'config' | 'repos'>, id: string, occurrence: string) {
  const sc = await s.repos.schedules.get(id)
  if (!sc) throw notFound('schedule', id)
  const at = instant(occurrence, 'occurrence')
  const found = occurrencesBetween(sc.recurrence, s.config.timezone, at, new Date(at.getTime() + 1))
  if (found.length === 0) throw bad(`occurrence: ${occurrence} is not an occurrence of schedule "${id}"`)
  return { sc, at }
}

/** Puts a schedule back as it was before `replaceWith`, for a change refused after the fact. */
async function restore(
  s: Pick<Services, 'repos'>,
  sc: Schedule,
  result: { schedules: Schedule[] },
): Promise<void> {
  for (const x of result.schedules) if (x.id !== sc.id) await s.repos.schedules.delete(x.id)
  if (!(await s.repos.schedules.update(sc.id, { recurrence: sc.recurrence }))) {
    await s.repos.schedules.create(sc)
  }
}

/** The parts of a schedule after taking one occurrence out: stored back into it and as new schedules. */
async function replaceWith(
  s: Pick<Services, 'repos'>,
  sc: Schedule,
  parts: Recurrence[],
): Promise<{ schedules: Schedule[]; removed: string[] }> {
  if (parts.length === 0) {
    await s.repos.schedules.delete(sc.id)
    return { schedules: [], removed: [sc.id] }
  }
  const [first, ...rest] = parts
  const kept = (await s.repos.schedules.update(sc.id, { recurrence: first as Recurrence })) as Schedule
  const created: Schedule[] = []
  for (const r of rest) {
    created.push(await s.repos.schedules.create({ ...sc, id: `s-${randomUUID()}`, recurrence: r }))
  }
  return { schedules: [kept, ...created], removed: [] }
}

export async function moveOccurrence(
  s: Pick<Services, 'config' | 'desired' | 'repos'>,
  id: string,
  body: { occurrence: string; to: string; force?: boolean },
): Promise<{ schedules: Schedule[]; removed: string[] }> {
  const { sc, at } = await occurrenceOf(s, id, body.occurrence)
  const to = instant(body.to, 'to')
  // The series is about to be split: what it asked for until now stays in the reports under its id.
  await closeRequestedLedger(s)
  const now = Date.now()
  if (at.getTime() < now) throw bad(`occurrence: ${body.occurrence} is already past`)
  if (to.getTime() < now) throw bad(`to: ${body.to} is in the past`)
  if (to.getTime() === at.getTime()) throw bad('to: the same time as the occurrence')
  if (!body.force) {
    const { clusterIds, durationMs } = await clustersReceiving(s, sc.id, at)
    const day = 86_400_000
    const cal = await buildCalendar(s, clusterIds, new Date(to.getTime() - day), new Date(to.getTime() + day))
    const end = to.getTime() + Math.max(durationMs, 1)
    const movedKey = `${sc.id}@${at.toISOString()}`
    const clash = cal.occurrences.find(
      (o) => o.key !== movedKey && Date.parse(o.start) < end && Date.parse(o.end) > to.getTime(),
    )
    if (clash) {
      throw new LoaError(
        'LOA_CALENDAR_CONFLICT',
        `to: overlaps "${clash.title}" at ${clash.start} on ${clash.clusterIds.length} cluster(s); send force: true to move anyway`,
      )
    }
  }
  const { recurrence } = sc
  if (recurrence.kind === 'once') {
    const moved = (await s.repos.schedules.update(sc.id, {
      recurrence: { kind: 'once', at: to.toISOString() },
    })) as Schedule
    await s.repos.workflow.moveProgrammeOf(sc.id, to.toISOString())
    // Same entry count; the state may still be refused (e.g. a limit lowered since), and the move undone.
    await s.desired.admit(targetsScope(sc.targets), async () => {
      await s.repos.schedules.update(sc.id, { recurrence })
      await s.repos.workflow.moveProgrammeOf(sc.id, recurrence.at)
    })
    return { schedules: [moved], removed: [] }
  }
  const result = await replaceWith(s, sc, splitAround(recurrence, at, s.config.timezone))
  const single = await s.repos.schedules.create({
    ...sc,
    id: `s-${randomUUID()}`,
    recurrence: { kind: 'once', at: to.toISOString() },
  })
  result.schedules.push(single)
  // A series split around the moved occurrence, plus the occurrence itself: up to two more entries per state.
  await s.desired.admit(targetsScope(sc.targets), () => restore(s, sc, result))
  return result
}

/** Cancels one occurrence (splitting a recurring schedule) or, with no occurrence, the whole schedule. */
export async function cancelOccurrence(
  s: Pick<Services, 'config' | 'desired' | 'repos'>,
  id: string,
  occurrence: string | undefined,
): Promise<{ schedules: Schedule[]; removed: string[] }> {
  await closeRequestedLedger(s)
  if (occurrence === undefined) {
    const sc = await s.repos.schedules.get(id)
    if (!sc || !(await s.repos.schedules.delete(id))) throw notFound('schedule', id)
    await s.desired.changed(targetsScope(sc.targets))
    return { schedules: [], removed: [id] }
  }
  const { sc, at } = await occurrenceOf(s, id, occurrence)
  if (at.getTime() < Date.now()) throw bad(`occurrence: ${occurrence} is already past`)
  const result =
    sc.recurrence.kind === 'once'
      ? await replaceWith(s, sc, [])
      : await replaceWith(s, sc, splitAround(sc.recurrence, at, s.config.timezone))
  // Cutting an occurrence out of a series splits it in two: one more entry in every targeted state.
  await s.desired.admit(targetsScope(sc.targets), () => restore(s, sc, result))
  return result
}
