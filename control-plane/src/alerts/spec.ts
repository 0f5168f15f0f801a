import { type AlertSpec, DESIRED_LIMITS } from '@loa/shared'
import type { Alert } from './model.js'

/** The wire form of an alert, as commands and desired states carry it. */
export function alertSpec(a: Alert): AlertSpec {
  const spec: AlertSpec = {
    alertId: a.id,
    revision: a.revision,
    ackId: a.ackId,
    title: a.title.slice(0, DESIRED_LIMITS.titleLength),
    level: a.level,
    priority: a.priority,
    items: a.items,
    repeat: a.repeat,
    startsAt: a.startsAt,
    expiresAt: a.expiresAt,
    audible: a.audible,
  }
  if (a.volume !== null) spec.volume = a.volume
  return spec
}
