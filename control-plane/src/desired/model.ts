import type { DesiredStateBody } from '@loa/shared'

/** A device's stored desired state. */

export interface DesiredStateRecord {
  clusterId: string
  version: number
  hash: string
  body: DesiredStateBody
  /** `body` as JSON, when already serialized (stored as is). */
  json?: string
}
