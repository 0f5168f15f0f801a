import type { Fallback, Schedule } from './model.js'

/** Storage of schedules and fallback programmes, storage-neutral (see repositories.ts). */

export interface ScheduleRepository {
  create(s: Omit<Schedule, 'createdAt'>): Promise<Schedule>
  get(id: string): Promise<Schedule | null>
  list(opts?: { enabledOnly?: boolean }): Promise<Schedule[]>
  delete(id: string): Promise<boolean>
  update(
    id: string,
    patch: Partial<Pick<Schedule, 'title' | 'recurrence' | 'targets' | 'priority' | 'volume' | 'enabled'>>,
  ): Promise<Schedule | null>
}

export interface FallbackRepository {
  put(f: Omit<Fallback, 'updatedAt'>): Promise<Fallback>
  get(unitId: string): Promise<Fallback | null>
  delete(unitId: string): Promise<boolean>
  list(): Promise<Fallback[]>
}
