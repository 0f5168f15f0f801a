/** The API's records as the console reads them: the control plane's own types (docs/api.md), imported as types only. */
export type {
  Cluster,
  EventRecord as DeviceEvent,
  Fallback,
  Play,
  Schedule,
  Unit,
  UnitSettings,
} from '@loa/control-plane'
export type { ApiToken } from '@loa/control-plane/access/model'
export type { CredentialStatus, IssuedCredentials } from '@loa/control-plane/devices/credentials'
export type { SigningKeyInfo } from '@loa/control-plane/devices/signing-keys'
export type { NowPlaying, TelemetryBody as Telemetry } from '@loa/shared'
