import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { TopicTree } from '@loa/shared'
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify'
import type { AuthSettings } from './access/settings.js'
import type { AlertsService } from './alerts/service.js'
import type { AuditLog } from './audit/log.js'
import type { CommandFanout } from './commands/fanout.js'
import type { ControlPlaneConfig } from './config.js'
import type { DesiredService } from './desired/service.js'
import type { DeviceCredentials } from './devices/credentials.js'
import type { SigningKeys } from './devices/signing-keys.js'
import type { MediaLanes } from './media/lanes.js'
import type { BrokerAuth } from './mqtt/broker-auth.js'
import type { BrokerIdentity } from './mqtt/broker-identity.js'
import type { MqttLink } from './mqtt/link.js'
import type { LivesService } from './relays/live-service.js'
import type { Repositories } from './repositories.js'
import type { Metrics } from './server/metrics.js'
import type { TtsRegistry } from './tts/registry.js'
import type { SpeechEngine } from './tts/speech.js'
import type { Ingest } from './uplink/ingest.js'

/** What routes need; built once in createControlPlane. */
export interface Services {
  config: ControlPlaneConfig
  repos: Repositories
  desired: DesiredService
  ingest: Ingest
  mqtt: MqttLink
  metrics: Metrics
  topics: TopicTree
  alerts: AlertsService
  lives: LivesService
  /** Every command the control plane sends goes out through here (commands/fanout.ts). */
  fanout: CommandFanout
  /** Slots for media work: the alert lane and the bounded ordinary lane (media/lanes.ts). */
  lanes: MediaLanes
  speech: SpeechEngine
  /** Text-to-speech engines and voices offered to operators. */
  tts: TtsRegistry
  /** Device MQTT credentials (devices/credentials.ts). */
  credentials: DeviceCredentials
  /** The control plane's Ed25519 keys: every command and desired state is signed (devices/signing-keys.ts). */
  signingKeys: SigningKeys
  /** The embedded broker's access control; null with an external broker. */
  brokerAuth: BrokerAuth | null
  /** Checks a device's id and MQTT secret, e.g. HTTP Basic auth on media downloads. */
  deviceVerifier?: DeviceVerifier
  /** The control plane's own broker identity and the read-only monitor's, for Mosquitto's files. */
  brokerIdentities?: { controlPlane: BrokerIdentity | null; monitor: BrokerIdentity | null }
  /** SSE tuning for tests: throttle between events, linger after an alert (or live relay) ends. */
  alertStream?: { streamThrottleMs?: number; streamLingerMs?: number }
  /** The audit log (docs/users-and-roles.md): routes, hooks and system code record actions here. */
  audit: AuditLog
  /** Session, lockout and login rate-limit tuning. */
  auth: AuthSettings
}

export interface DeviceVerifier {
  verify(deviceId: string, secret: string): Promise<boolean>
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>
