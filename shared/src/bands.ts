import type { BulletinLevel } from './common.js'

/**
 * Numbered priority bands, 0–255, higher wins (as in public-address systems). A higher band preempts a lower one
 * at once; an equal band never interrupts. Everything from `emergency` up is an emergency, and an emergency is
 * interrupted only by a higher emergency. The gaps leave room for finer ordering inside a band.
 */
export const Bands = {
  /** The fallback programme that fills silence. */
  fallback: 10,
  /** Normal bulletins (thông thường). */
  normal: 50,
  /** Scheduled relays of another station's programme (tiếp sóng), e.g. the national news. */
  relay: 60,
  /** A commune's own priority slot. */
  communePriority: 90,
  /** Priority bulletins (ưu tiên) from above. */
  priority: 100,
  /** A test tone ordered by the province, the CLI or the technician. */
  test: 120,
  /** A technician's local announcement at the box. */
  localAnnouncement: 150,
  /** Emergency (khẩn cấp): disaster, fire, epidemic. 200–255. */
  emergency: 200,
  max: 255,
} as const

export function defaultPriority(level: BulletinLevel): number {
  return Bands[level]
}

export function isEmergencyBand(priority: number): boolean {
  return priority >= Bands.emergency
}
