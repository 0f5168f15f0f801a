import type { DesiredStateRecord } from './model.js'

/** Storage of desired states, storage-neutral (see repositories.ts). */

export interface DesiredStateRepository {
  get(clusterId: string): Promise<DesiredStateRecord | null>
  /** Current version and hash of every device (cheap: no bodies). */
  heads(): Promise<Map<string, { version: number; hash: string }>>
  /** Current version of one device (cheap: no body). */
  versionOf(clusterId: string): Promise<number | null>
  save(records: DesiredStateRecord[]): Promise<void>
}
