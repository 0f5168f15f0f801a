import { DESIRED_LIMITS, type LiveSpec } from '@loa/shared'
import type { Live } from './model.js'

/** The wire form of a live relay, as commands and desired states carry it. */
export function liveSpec(l: Live): LiveSpec {
  const spec: LiveSpec = {
    liveId: l.id,
    revision: l.revision,
    ackId: l.ackId,
    title: l.title.slice(0, DESIRED_LIMITS.titleLength),
    sourceUrl: l.sourceUrl,
    priority: l.priority,
    startsAt: l.startsAt,
    endsAt: l.endsAt,
  }
  if (l.volume !== null) spec.volume = l.volume
  return spec
}
