import type { DailyWindow, Recurrence } from '@loa/shared'
import type { Targets } from '../org/model.js'

/** Recurring schedules and each unit's fallback programme. */

export interface Schedule {
  id: string
  title: string
  bulletinId: string | null
  playlistId: string | null
  recurrence: Recurrence
  targets: Targets
  priority: number
  volume: number | null
  enabled: boolean
  createdAt: string
}

export interface Fallback {
  unitId: string
  bulletinIds: string[]
  windows: DailyWindow[]
  volume: number | null
  updatedAt: string
}
