/** The API's records as the console reads them: the control plane's own types (docs/api.md), imported as types only. */
export type {
  ApiToken,
  Cluster,
  CredentialStatus,
  EventRecord as DeviceEvent,
  Fallback,
  IssuedCredentials,
  Play,
  Schedule,
  SigningKeyInfo,
  Unit,
  UnitSettings,
} from '@loa/control-plane'
export type { NowPlaying, TelemetryBody as Telemetry } from '@loa/shared'
