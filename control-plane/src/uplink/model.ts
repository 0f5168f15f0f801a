import type {
  CommandAckBody,
  DeviceEventBody,
  PlayReportBody,
  ReportedStateBody,
  TelemetryBody,
} from '@loa/shared'

/** What devices send up, as stored: plays, events, telemetry, presence, and the batch record ingest writes. */

export interface Play extends Omit<PlayReportBody, 'reason'> {
  id: string
  clusterId: string
  reason: string | null
  receivedAt: string
}

export interface EventRecord {
  id: string
  clusterId: string | null
  at: string
  kind: string
  severity: DeviceEventBody['severity']
  message: string
  data: Record<string, unknown> | null
  /** `device` for events the device sent, `control-plane` for what the control plane noticed about it. */
  source: 'device' | 'control-plane'
  receivedAt: string
}

export interface TelemetryRecord {
  id: string
  clusterId: string
  at: string
  body: TelemetryBody
  receivedAt: string
}

/** One upward message ready to be stored; `id` is the envelope id. */
export type IngestRecord =
  | { channel: 'play'; id: string; clusterId: string; receivedAt: string; body: PlayReportBody }
  | { channel: 'event'; id: string; clusterId: string; receivedAt: string; body: DeviceEventBody }
  | { channel: 'telemetry'; id: string; clusterId: string; receivedAt: string; body: TelemetryBody }
  | { channel: 'ack'; id: string; clusterId: string; receivedAt: string; body: CommandAckBody }
  | { channel: 'reported'; id: string; clusterId: string; receivedAt: string; body: ReportedStateBody }
  | { channel: 'cp-event'; id: string; clusterId: string; receivedAt: string; body: DeviceEventBody }

export interface PresenceChange {
  clusterId: string
  at: string
  online: boolean
}
