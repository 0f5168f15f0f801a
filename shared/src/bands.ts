import type { BulletinLevel } from './common.js'

/**
 * Numbered priority bands, 0–255, higher wins (as in public-address systems: emergency ≥ 200 here).
 * Gaps leave room for commune priority slots, local announcements and live relays (see docs/protocol.md).
 */
export const Bands = {
  fallback: 10,
  normal: 50,
  priority: 100,
  emergency: 200,
} as const

export function defaultPriority(level: BulletinLevel): number {
  return Bands[level]
}
