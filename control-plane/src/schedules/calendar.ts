import { type BulletinLevel, occurrencesBetween, type Recurrence } from '@loa/shared'
import type { Services } from '../context.js'
import { desiredStateCompiler } from '../desired/state.js'
import { LoaError } from '../server/errors.js'

/**
 * A calendar of what clusters will play: the schedules (and recurring relays) each cluster receives, expanded in
 * the province's time zone exactly as the agents expand them, with overlaps on the same cluster flagged and the
 * winner named by band (the agent's arbitration: a higher band preempts, an equal band waits its turn).
 */

export interface CalendarOccurrence {
  key: string
  kind: 'schedule' | 'relay'
  id: string
  title: string
  level: BulletinLevel
  priority: number
  start: string
  end: string
  durationMs: number
  recurrence: Recurrence['kind']
  clusterIds: string[]
  conflict: boolean
}

export interface CalendarConflict {
  a: string
  b: string
  winner: string
  reason: 'higher band preempts' | 'equal band: the later one waits'
  clusterIds: string[]
}

export const MAX_CALENDAR_OCCURRENCES = 20_000

interface Slot {
  key: string
  start: number
  end: number
  priority: number
}

/** The desired-state compiler over a snapshot, with `now` = the start of the view (so its past is not pruned). */
async function compilerFor(
  s: Pick<Services, 'config' | 'repos'>,
  clusterIds: string[] | undefined,
  from: Date,
) {
  const { repos } = s
  const [units, schedules, bulletins, playlists, media, relays, clusters] = await Promise.all([
    repos.units.list(),
    repos.schedules.list({ enabledOnly: true }),
    repos.content.listBulletins(),
    repos.content.listPlaylists(),
    repos.media.list(),
    repos.relays.list(),
    repos.clusters.listInputs(clusterIds),
  ])
  const compile = desiredStateCompiler({
    units,
    schedules,
    bulletins,
    playlists,
    media,
    fallbacks: [],
    relays,
    timezone: s.config.timezone,
    now: from.toISOString(),
  })
  return { compile, clusters, media }
}

/** Clusters that receive a schedule (without expanding anyone's occurrences) and its content's length. */
export async function clustersReceiving(
  s: Pick<Services, 'config' | 'repos'>,
  scheduleId: string,
  at: Date,
): Promise<{ clusterIds: string[]; durationMs: number }> {
  const { compile, clusters, media } = await compilerFor(s, undefined, at)
  const duration = new Map(media.map((m) => [m.sha256, m.durationMs]))
  const clusterIds: string[] = []
  let durationMs = 0
  for (const c of clusters) {
    const e = compile(c).schedule.find((x) => x.id === scheduleId)
    if (!e) continue
    clusterIds.push(c.id)
    durationMs = e.items.reduce((sum, sha) => sum + (duration.get(sha) ?? 0), 0)
  }
  return { clusterIds, durationMs }
}

/** Occurrences starting in [from, to) on the given clusters (undefined: every cluster). */
export async function buildCalendar(
  s: Pick<Services, 'config' | 'repos'>,
  clusterIds: string[] | undefined,
  from: Date,
  to: Date,
  opts: {
    maxOccurrences?: number
    relays?: boolean
    conflicts?: boolean
    /** Give the event loop a turn after this many clusters (a background job over a whole province). */
    yieldEvery?: number
  } = {},
): Promise<{ occurrences: CalendarOccurrence[]; conflicts: CalendarConflict[] }> {
  const max = opts.maxOccurrences ?? MAX_CALENDAR_OCCURRENCES
  const tz = s.config.timezone
  const { compile, clusters, media } = await compilerFor(s, clusterIds, from)
  const duration = new Map(media.map((m) => [m.sha256, m.durationMs]))
  const expanded = new Map<string, Date[]>()
  const expand = (id: string, r: Recurrence) => {
    let list = expanded.get(id)
    if (!list) {
      list = occurrencesBetween(r, tz, from, to)
      expanded.set(id, list)
    }
    return list
  }
  const byKey = new Map<string, CalendarOccurrence>()
  const perCluster = new Map<string, Slot[]>()
  let total = 0
  const add = (clusterId: string, o: Omit<CalendarOccurrence, 'clusterIds' | 'conflict' | 'key'>) => {
    const key = `${o.id}@${o.start}`
    let occ = byKey.get(key)
    if (!occ) {
      if (++total > max) {
        throw new LoaError(
          'LOA_CALENDAR_INVALID',
          'to: too many occurrences in this range; ask for a shorter one',
        )
      }
      occ = { ...o, key, clusterIds: [], conflict: false }
      byKey.set(key, occ)
    }
    occ.clusterIds.push(clusterId)
    if (opts.conflicts === false) return
    const list = perCluster.get(clusterId) ?? []
    list.push({ key, start: Date.parse(o.start), end: Date.parse(o.end), priority: o.priority })
    perCluster.set(clusterId, list)
  }
  for (const [i, c] of clusters.entries()) {
    if (opts.yieldEvery && i > 0 && i % opts.yieldEvery === 0) await new Promise((r) => setImmediate(r))
    const content = compile(c)
    for (const e of content.schedule) {
      const durationMs = e.items.reduce((sum, sha) => sum + (duration.get(sha) ?? 0), 0)
      for (const at of expand(e.id, e.recurrence)) {
        add(c.id, {
          kind: 'schedule',
          id: e.id,
          title: e.title,
          level: e.level,
          priority: e.priority,
          start: at.toISOString(),
          end: new Date(at.getTime() + durationMs).toISOString(),
          durationMs,
          recurrence: e.recurrence.kind,
        })
      }
    }
    for (const r of opts.relays === false ? [] : (content.relays ?? [])) {
      for (const at of expand(r.id, r.recurrence)) {
        add(c.id, {
          kind: 'relay',
          id: r.id,
          title: r.title,
          level: 'normal',
          priority: r.priority,
          start: at.toISOString(),
          end: new Date(at.getTime() + r.durationS * 1000).toISOString(),
          durationMs: r.durationS * 1000,
          recurrence: r.recurrence.kind,
        })
      }
    }
  }
  const conflicts = new Map<string, CalendarConflict>()
  for (const [clusterId, slots] of perCluster) {
    slots.sort((a, b) => a.start - b.start || b.priority - a.priority)
    let active: Slot[] = []
    for (const slot of slots) {
      active = active.filter((a) => a.end > slot.start)
      for (const a of active) {
        const pair = `${a.key}|${slot.key}`
        let c = conflicts.get(pair)
        if (!c) {
          const higher = slot.priority > a.priority
          c = {
            a: a.key,
            b: slot.key,
            winner: higher ? slot.key : a.key,
            reason: slot.priority === a.priority ? 'equal band: the later one waits' : 'higher band preempts',
            clusterIds: [],
          }
          conflicts.set(pair, c)
        }
        c.clusterIds.push(clusterId)
        ;(byKey.get(a.key) as CalendarOccurrence).conflict = true
        ;(byKey.get(slot.key) as CalendarOccurrence).conflict = true
      }
      if (slot.end > slot.start) active.push(slot)
    }
  }
  const occurrences = [...byKey.values()].sort(
    (a, b) => a.start.localeCompare(b.start) || b.priority - a.priority,
  )
  return { occurrences, conflicts: [...conflicts.values()] }
}
