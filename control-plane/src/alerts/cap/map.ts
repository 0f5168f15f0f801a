import { Bands, type BulletinLevel } from '@loa/shared'
import type { Unit } from '../../org/model.js'
import { LoaError } from '../../server/errors.js'
import type { AlertTargets } from '../model.js'
import type { CapAlert, CapInfo } from './parse.js'

/**
 * CAP severity × urgency → Circular 39 level and PA band (docs/alerts.md). Extreme and Severe events sound at once
 * in the emergency band, more urgent ones higher so they preempt; Minor events are priority bulletins. Urgency
 * `Past` ("responsive action is no longer required", e.g. an all-clear) is news, not an emergency: a priority
 * bulletin whatever the severity, so it never cuts into anything.
 */
export function capBand(severity: string, urgency: string): { level: BulletinLevel; priority: number } {
  if (urgency === 'Past') return { level: 'priority', priority: Bands.priority }
  const immediate = urgency === 'Immediate'
  switch (severity) {
    case 'Extreme':
      return { level: 'emergency', priority: immediate ? 255 : 240 }
    case 'Severe':
      return { level: 'emergency', priority: immediate ? 230 : 220 }
    case 'Minor':
      return { level: 'priority', priority: Bands.priority }
    default:
      // Moderate, and Unknown: an alert whose severity nobody knows is treated as an emergency, at the band floor.
      return { level: 'emergency', priority: Bands.emergency }
  }
}

/** Test and Exercise are delivered and acknowledged but never sound; System and Draft are not for the public. */
export function capAudible(status: CapAlert['status']): boolean {
  if (status === 'System' || status === 'Draft') {
    throw new LoaError(
      'LOA_CAP_UNSUPPORTED',
      `alert/status: ${status} messages are not broadcast (only Actual, Test, Exercise)`,
    )
  }
  return status === 'Actual'
}

/**
 * A loudspeaker is heard by everyone in range: only `Public` messages are broadcast. `Restricted` (for users with
 * an operational need) and `Private` (for the `addresses` only) are refused, not delivered inaudibly: Loa has no
 * private channel to the people they are meant for, and an inaudible alert on a public box reaches nobody.
 */
export function capScopeSupported(scope: CapAlert['scope']): void {
  if (scope !== 'Public') {
    throw new LoaError(
      'LOA_CAP_UNSUPPORTED',
      `alert/scope: ${scope} messages are not broadcast on public loudspeakers (only Public)`,
    )
  }
}

export function capMsgTypeSupported(msgType: CapAlert['msgType']): void {
  if (msgType === 'Ack' || msgType === 'Error') {
    throw new LoaError(
      'LOA_CAP_UNSUPPORTED',
      `alert/msgType: ${msgType} is not supported (only Alert, Update, Cancel)`,
    )
  }
}

/** The info block to broadcast: the first Vietnamese one, else the first. */
export function pickInfo(cap: CapAlert): { info: CapInfo; index: number } {
  const index = Math.max(
    0,
    cap.info.findIndex((i) => i.language.toLowerCase().startsWith('vi')),
  )
  const info = cap.info[index]
  if (!info) throw new LoaError('LOA_CAP_INVALID', 'alert/info: required for an Alert or Update')
  return { info, index }
}

/**
 * Areas → targets: polygons and circles against cluster GPS positions; geocodes against administrative unit codes
 * (falling back to the unit id), each covering the unit's whole subtree. Every area of the info counts.
 */
export function capTargets(info: CapInfo, index: number, units: Unit[]): AlertTargets {
  if (info.areas.length === 0)
    throw new LoaError('LOA_CAP_INVALID', `alert/info/${index}/area: required element missing`)
  const byCode = new Map<string, string>()
  for (const u of units) if (u.code) byCode.set(u.code, u.id)
  const ids = new Set(units.map((u) => u.id))
  const t: AlertTargets = { units: [], clusters: [], tags: [], polygons: [], circles: [] }
  for (const [i, a] of info.areas.entries()) {
    t.polygons.push(...a.polygons)
    t.circles.push(...a.circles)
    for (const g of a.geocodes) {
      const unit = byCode.get(g.value) ?? (ids.has(g.value) ? g.value : undefined)
      if (unit && !t.units.includes(unit)) t.units.push(unit)
    }
    if (a.polygons.length + a.circles.length + a.geocodes.length === 0) {
      throw new LoaError(
        'LOA_CAP_UNSUPPORTED',
        `alert/info/${index}/area/${i}: needs a polygon, circle or geocode (areaDesc alone cannot be located)`,
      )
    }
  }
  return t
}

/** What to say when there is no audio resource. */
export function capSpeechText(info: CapInfo): string {
  return [info.headline ?? info.event, info.description, info.instruction].filter(Boolean).join('. ')
}

export function capTitle(info: CapInfo): string {
  return (info.headline ?? info.event).slice(0, 200)
}
