import { occurrencesBetween } from '@loa/shared'
import { DateTime } from 'luxon'
import type { Logger } from 'pino'
import type { Services } from '../context.js'
import { buildCalendar } from '../schedules/calendar.js'
import type { RequestedDayRow } from './repository.js'

/**
 * The requested-minutes ledger. A report compares minutes played with minutes requested; computing "requested" from
 * today's schedules would forget a schedule deleted, disabled, retargeted or edited since. So, as time passes, the
 * occurrences each cluster receives are written down per cluster, local day and schedule (`requested_days`), from
 * the same calendar expansion the agents use. Closed every minute, before every change to a schedule, and before
 * every report; a report reads the ledger for the time it covers and expands today's schedules only for the time
 * before the ledger existed (an installation's first day).
 */

const DAY_MS = 86_400_000
/** Catching up after downtime goes a day at a time, and never further back than this. */
const MAX_CATCH_UP_MS = 366 * DAY_MS

const chains = new WeakMap<object, Promise<unknown>>()

/** Runs closes of one repository one after another (a report and the timer may ask at once). */
function serial<T>(key: object, run: () => Promise<T>): Promise<T> {
  const next = (chains.get(key) ?? Promise.resolve()).then(run, run)
  chains.set(
    key,
    next.catch(() => {}),
  )
  return next
}

/** Writes every occurrence that started before `at` and is not in the ledger yet. */
export function closeRequestedLedger(s: Pick<Services, 'config' | 'repos'>, at = new Date()): Promise<void> {
  return serial(s.repos.requested, async () => {
    const span = await s.repos.requested.span()
    const end = at.getTime()
    const startedAt = span?.startedAt ?? at.toISOString()
    let from = span ? Math.max(Date.parse(span.through), end - MAX_CATCH_UP_MS) : end
    let expected = span?.through ?? null
    if (!span) {
      // The first close only marks where the ledger begins.
      await s.repos.requested.close([], { startedAt, through: at.toISOString() }, null)
      return
    }
    while (from < end) {
      const to = Math.min(end, from + DAY_MS)
      const rows = await requestedBetween(s, undefined, new Date(from), new Date(to))
      const through = new Date(to).toISOString()
      if (!(await s.repos.requested.close(rows, { startedAt, through }, expected))) return
      expected = through
      from = to
    }
  })
}

/** The occurrences starting in [from, to) on the clusters (undefined: all), per cluster, local day and schedule. */
async function requestedBetween(
  s: Pick<Services, 'config' | 'repos'>,
  clusterIds: string[] | undefined,
  from: Date,
  to: Date,
): Promise<RequestedDayRow[]> {
  const tz = s.config.timezone
  // Most minutes nothing is due anywhere: then no cluster needs its state compiled.
  const schedules = await s.repos.schedules.list({ enabledOnly: true })
  if (!schedules.some((sc) => occurrencesBetween(sc.recurrence, tz, from, to).length > 0)) return []
  // One snapshot for the whole province; alerts must not wait on a close, so the loop yields now and then.
  const cal = await buildCalendar(s, clusterIds, from, to, {
    maxOccurrences: 2_000_000,
    relays: false,
    conflicts: false,
    yieldEvery: 250,
  })
  const rows = new Map<string, RequestedDayRow>()
  for (const o of cal.occurrences) {
    const day = DateTime.fromISO(o.start, { zone: tz }).toISODate() as string
    for (const clusterId of o.clusterIds) {
      const key = `${clusterId}\0${day}\0${o.id}`
      const r = rows.get(key) ?? { clusterId, day, scheduleId: o.id, requestedMs: 0, occurrences: 0 }
      r.requestedMs += o.durationMs
      r.occurrences++
      rows.set(key, r)
    }
  }
  return [...rows.values()]
}

/**
 * Requested milliseconds per cluster and local day for occurrences starting in [from, to): the ledger where it
 * covers the range (closed up to now first), today's schedules for the part before the ledger began.
 */
export async function requestedDays(
  s: Pick<Services, 'config' | 'repos'>,
  clusterIds: string[],
  from: Date,
  to: Date,
): Promise<{ clusterId: string; day: string; requestedMs: number }[]> {
  if (clusterIds.length === 0 || !(to > from)) return []
  await closeRequestedLedger(s)
  const span = await s.repos.requested.span()
  const startedAt = span ? Date.parse(span.startedAt) : Number.POSITIVE_INFINITY
  const out: { clusterId: string; day: string; requestedMs: number }[] = []
  if (from.getTime() < startedAt) {
    // A loop, not push(...rows): a year before the ledger can be more rows than a call takes arguments.
    const before = await requestedBetween(s, clusterIds, from, new Date(Math.min(to.getTime(), startedAt)))
    for (const r of before) out.push(r)
  }
  if (span && to.getTime() > startedAt) {
    // Ledger days are whole local days; a report's range is too (from a local midnight to the end of a day or now).
    const tz = s.config.timezone
    const fromDay = DateTime.fromJSDate(new Date(Math.max(from.getTime(), startedAt)), {
      zone: tz,
    }).toISODate()
    const toDay = DateTime.fromMillis(to.getTime() - 1, { zone: tz }).toISODate()
    for (const r of await s.repos.requested.days(clusterIds, fromDay as string, toDay as string)) {
      out.push({ clusterId: r.clusterId, day: r.day, requestedMs: r.requestedMs })
    }
  }
  return out
}

/** Closes the ledger every `everyMs` until the returned function is called (which waits for a close under way). */
export function startRequestedLedger(
  s: Pick<Services, 'config' | 'repos'>,
  everyMs: number,
  log: Logger,
): () => Promise<void> {
  const tick = () =>
    closeRequestedLedger(s).catch((err: unknown) =>
      log.error({ err }, 'requested-minutes ledger: close failed'),
    )
  void tick()
  const timer = setInterval(() => void tick(), everyMs)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await serial(s.repos.requested, async () => {})
  }
}
