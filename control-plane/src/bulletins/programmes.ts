import { randomUUID } from 'node:crypto'
import { Bands, type BulletinLevel, DESIRED_LIMITS } from '@loa/shared'
import { DateTime } from 'luxon'
import type { Actor } from '../access/actor.js'
import { unitInScope } from '../access/policy.js'
import type { Services } from '../context.js'
import { LoaError, notFound } from '../server/errors.js'
import type { Bulletin, Programme } from './model.js'
import { unitSettings } from './workflow.js'

/**
 * A unit's programme for one slot (e.g. 06:00 on 28/11): an ordered playlist played once on the unit's clusters.
 * Accepted normal bulletins are appended; priority bulletins go in front of the normal ones (after earlier priority
 * ones), as Circular 39 asks; the commune may reorder. The schedule's band is that of the highest level inside.
 */

const LEAD_MS = 2 * 60_000
const LEVEL_RANK: Record<BulletinLevel, number> = { normal: 0, priority: 1, emergency: 2 }

/** The next configured slot of the unit at least two minutes from now. */
export async function nextSlot(
  s: Pick<Services, 'config' | 'repos'>,
  unitId: string,
  now = new Date(),
): Promise<string> {
  const { slots } = await unitSettings(s, unitId)
  const zone = s.config.timezone
  const earliest = now.getTime() + LEAD_MS
  const today = DateTime.fromJSDate(now, { zone }).startOf('day')
  for (let d = 0; d < 8; d++) {
    const day = today.plus({ days: d })
    const candidates = [...slots]
      .sort()
      .map((t) => {
        const [h, m] = t.split(':').map(Number)
        return day.set({ hour: h, minute: m })
      })
      .filter((c) => c.toMillis() >= earliest)
    if (candidates[0]) return candidates[0].toUTC().toISO({ suppressMilliseconds: true }) as string
  }
  throw new LoaError('LOA_WORKFLOW_INVALID', `slots: unit "${unitId}" has no broadcast slot`)
}

function checkSlot(at: string): string {
  const t = Date.parse(at)
  if (Number.isNaN(t)) throw new LoaError('LOA_WORKFLOW_INVALID', `at: "${at}" is not a date-time`)
  if (t < Date.now()) throw new LoaError('LOA_WORKFLOW_INVALID', `at: ${at} is in the past`)
  return new Date(t).toISOString()
}

const programmeTitle = (s: Pick<Services, 'config'>, at: string) =>
  `Chương trình ${DateTime.fromISO(at, { zone: s.config.timezone }).toFormat('HH:mm dd/MM/yyyy')}`

/** Puts a bulletin into the unit's programme at `at` (creating it), priority ones ahead of normal ones. */
export async function placeInProgramme(
  s: Pick<Services, 'config' | 'desired' | 'repos'>,
  unitId: string,
  bulletin: Bulletin,
  at: string,
): Promise<Programme> {
  const startsAt = checkSlot(at)
  const { content, schedules, workflow } = s.repos
  const existing = await workflow.findProgramme(unitId, startsAt)
  if (existing) {
    const playlist = await content.getPlaylist(existing.playlistId)
    if (!playlist) throw notFound('playlist', existing.playlistId)
    if (playlist.bulletinIds.includes(bulletin.id)) {
      throw new LoaError(
        'LOA_CONFLICT',
        `bulletinId: "${bulletin.id}" is already in the programme at ${startsAt}`,
      )
    }
    // A programme is one schedule entry on the units' clusters: its agents play at most this many items in one go.
    if (playlist.bulletinIds.length >= DESIRED_LIMITS.itemsPerEntry) {
      throw new LoaError(
        'LOA_DESIRED_LIMIT',
        `bulletinId: the programme of unit "${unitId}" at ${startsAt} already plays ${playlist.bulletinIds.length} bulletins, the limit is ${DESIRED_LIMITS.itemsPerEntry}; choose another slot`,
      )
    }
    const members = await Promise.all(playlist.bulletinIds.map((id) => content.getBulletin(id)))
    const ids = [...playlist.bulletinIds]
    if (bulletin.level === 'normal') ids.push(bulletin.id)
    else {
      const firstNormal = members.findIndex((m) => (m?.level ?? 'normal') === 'normal')
      ids.splice(firstNormal < 0 ? ids.length : firstNormal, 0, bulletin.id)
    }
    await content.setPlaylistItems(playlist.id, ids)
    const top = [...members, bulletin].reduce<BulletinLevel>(
      (l, m) => (m && LEVEL_RANK[m.level] > LEVEL_RANK[l] ? m.level : l),
      'normal',
    )
    const sc = await schedules.get(existing.scheduleId)
    if (sc && sc.priority < Bands[top]) await schedules.update(sc.id, { priority: Bands[top] })
    await s.desired.admit({ units: [unitId] }, async () => {
      await content.setPlaylistItems(playlist.id, playlist.bulletinIds)
      if (sc) await schedules.update(sc.id, { priority: sc.priority })
    })
    return existing
  }
  const title = programmeTitle(s, startsAt)
  const playlist = await content.createPlaylist({
    id: `p-${randomUUID()}`,
    title,
    bulletinIds: [bulletin.id],
    unitId,
  })
  const schedule = await schedules.create({
    id: `s-${randomUUID()}`,
    title,
    bulletinId: null,
    playlistId: playlist.id,
    recurrence: { kind: 'once', at: startsAt },
    targets: { units: [unitId], clusters: [], tags: [] },
    priority: Bands[bulletin.level],
    volume: null,
    enabled: true,
  })
  const programme = await workflow.createProgramme({
    id: `pg-${randomUUID()}`,
    unitId,
    startsAt,
    playlistId: playlist.id,
    scheduleId: schedule.id,
  })
  // Undone by deleting its schedule: a programme without one takes no more bulletins and plays nowhere.
  await s.desired.admit({ units: [unitId] }, () => schedules.delete(schedule.id))
  return programme
}

/** A programme with its items, for the console. */
export async function programmeView(s: Pick<Services, 'repos'>, p: Programme) {
  const playlist = await s.repos.content.getPlaylist(p.playlistId)
  const schedule = await s.repos.schedules.get(p.scheduleId)
  const items = []
  for (const id of playlist?.bulletinIds ?? []) {
    const b = await s.repos.content.getBulletin(id)
    const m = b ? await s.repos.media.get(b.mediaSha256) : null
    items.push({
      bulletinId: id,
      title: b?.title ?? id,
      level: b?.level ?? 'normal',
      durationMs: m?.durationMs ?? 0,
    })
  }
  return { ...p, title: playlist?.title ?? '', priority: schedule?.priority ?? null, items }
}

/** New order of a programme's items: exactly the same bulletins, permuted. */
export async function reorderProgramme(
  s: Pick<Services, 'desired' | 'repos'>,
  id: string,
  bulletinIds: string[],
  actor: Actor,
): Promise<Programme> {
  const p = await s.repos.workflow.getProgramme(id)
  // Another unit's programme reads as unknown.
  if (!p || !(await unitInScope(s, actor, p.unitId))) throw notFound('programme', id)
  const playlist = await s.repos.content.getPlaylist(p.playlistId)
  if (!playlist) throw notFound('playlist', p.playlistId)
  const same =
    bulletinIds.length === playlist.bulletinIds.length &&
    [...bulletinIds].sort().join('\n') === [...playlist.bulletinIds].sort().join('\n')
  if (!same) {
    throw new LoaError(
      'LOA_WORKFLOW_INVALID',
      `bulletinIds: must be the programme's bulletins in the new order`,
    )
  }
  await s.repos.content.setPlaylistItems(p.playlistId, bulletinIds)
  await s.desired.changed({ units: [p.unitId] })
  return p
}

/** A programme with its items, as the API answers it (the web console reads this type). */
export type ProgrammeView = Awaited<ReturnType<typeof programmeView>>
