/** The subset of the control plane's API shapes the end-to-end tests read. */
export interface Play {
  id: string
  clusterId: string
  scheduleId: string | null
  sha256: string
  status: 'played' | 'failed' | 'skipped' | 'interrupted'
  reason?: string | null
  fallback: boolean
  occurrence: string | null
  relayOnAt: string | null
  startedAt: string | null
  endedAt: string | null
  relayOffAt: string | null
  durationMs: number
}

export interface ClusterView {
  id: string
  online: boolean
  desiredVersion: number | null
  appliedVersion: number | null
  receivedVersion: number | null
}

export interface DeviceEvent {
  id: string
  clusterId: string
  kind: string
  severity: string
  message: string
  data?: Record<string, unknown> | null
}

export const ms = (iso: string | null | undefined): number => {
  if (!iso) throw new Error('missing timestamp')
  return Date.parse(iso)
}
