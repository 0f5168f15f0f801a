import { type DesiredStateBody, occurrencesBetween, type RelayEntry } from '@loa/shared'
import type { Logger } from 'pino'

/** One occurrence of a recurring relay: on from `at` for the entry's `durationS`. */
export interface RelayOccurrence {
  /** `relay:<entry id>@<instant>`: a live id that no control-plane live id can take (they cannot hold `:`). */
  id: string
  entry: RelayEntry
  at: Date
  endsAt: Date
}

/**
 * The occurrences of the desired state's recurring relays that are on at `now`, evaluated in its time zone like
 * schedule entries (so they run offline too). One that started before `now` is joined late, e.g. after a restart.
 */
export function relaysOnAt(
  d: DesiredStateBody | null,
  tz: string,
  now: number,
  log: Logger,
): RelayOccurrence[] {
  const out: RelayOccurrence[] = []
  for (const entry of d?.relays ?? []) {
    const ms = entry.durationS * 1000
    try {
      for (const at of occurrencesBetween(entry.recurrence, tz, new Date(now - ms + 1), new Date(now + 1))) {
        out.push({
          id: `relay:${entry.id}@${at.toISOString()}`,
          entry,
          at,
          endsAt: new Date(at.getTime() + ms),
        })
      }
    } catch (err) {
      log.warn({ err, relayId: entry.id }, 'cannot evaluate relay')
    }
  }
  return out
}
