import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { TopicTree } from '@loa/shared'
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify'
import type { ControlPlaneConfig } from './config.js'
import type { DesiredService } from './desired-service.js'
import type { Ingest } from './ingest.js'
import type { Metrics } from './metrics.js'
import type { MqttLink } from './mqtt-link.js'
import type { Repositories } from './repositories.js'

/** What routes need; built once in createControlPlane. */
export interface Services {
  config: ControlPlaneConfig
  repos: Repositories
  desired: DesiredService
  ingest: Ingest
  mqtt: MqttLink
  metrics: Metrics
  topics: TopicTree
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>
