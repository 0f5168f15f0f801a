import path from 'node:path'
import { topicTree } from '@loa/shared'
import pino, { type Logger } from 'pino'
import { AlertsService } from './alerts-service.js'
import { ensureBootstrapToken } from './api-tokens.js'
import { buildApp } from './app.js'
import { AuditLog } from './audit-log.js'
import { type AuthSettings, DEFAULT_AUTH } from './auth-settings.js'
import { type BrokerAuthHooks, type EmbeddedBroker, startEmbeddedBroker } from './broker.js'
import { CommandFanout } from './command-fanout.js'
import { type ControlPlaneConfig, DEFAULT_CONFIG } from './config.js'
import type { App, DeviceVerifier } from './context.js'
import { DesiredService } from './desired-service.js'
import { sharedSecretVerifier } from './device-shared-secret.js'
import { Ingest } from './ingest.js'
import { LivesService } from './lives-service.js'
import { REDACT } from './log-redact.js'
import { createMetrics } from './metrics.js'
import { MqttLink } from './mqtt-link.js'
import { EspeakEngine, type SpeechEngine } from './speech.js'
import { openSqliteRepositories } from './sqlite.js'

export { newApiTokenString, parseApiToken } from './api-tokens.js'
export type { AuthSettings } from './auth-settings.js'
export { createFirstAdmin, type FirstAdminInput, type FirstAdminResult, initDataDir } from './bootstrap.js'
export { ConfigError, type ControlPlaneConfig, loadConfigFromEnv } from './config.js'
export type { DeviceVerifier } from './context.js'
export type * from './domain.js'
export { LoaError, type LoaErrorCode, LoaErrorCodes } from './errors.js'
export type * from './repositories.js'

export interface ControlPlaneOptions extends Partial<ControlPlaneConfig> {
  dataDir: string
  logger?: Logger
  /** Seam for the security issue: authentication and ACL hooks on the embedded broker. */
  brokerHooks?: BrokerAuthHooks
  /** Debounce of desired-state recomputation (ms); tests may shorten it. */
  desiredDebounceMs?: number
  /** Delay before a raised alert's targets get their new desired states (ms; 0 = before the API answers). */
  alertDesiredDelayMs?: number
  /** Ingest flush interval (ms). */
  ingestFlushMs?: number
  /** Text-to-speech for CAP alerts without audio (default: espeak-ng, offline). */
  speech?: SpeechEngine
  /** How long an alert's SSE stream stays open after the alert is withdrawn or expired (ms). */
  alertStreamLingerMs?: number
  /** Session, lockout and login rate-limit tuning (tests shorten them). */
  auth?: Partial<AuthSettings>
  /** LOA_BOOTSTRAP_TOKEN: a province-admin API token with exactly this value is made to exist at start. */
  bootstrapToken?: string
  /** Checks device credentials (HTTP Basic) for media downloads. */
  deviceVerifier?: DeviceVerifier
  /** LOA_DEVICE_SHARED_SECRET: interim device check (device-shared-secret.ts) when no deviceVerifier is given. */
  deviceSharedSecret?: string
}

export interface ControlPlane {
  app: App
  httpUrl: string
  mqttUrl: string
  close(): Promise<void>
}

const urlHost = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host)

export async function createControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const {
    logger: givenLogger,
    brokerHooks,
    desiredDebounceMs,
    alertDesiredDelayMs,
    ingestFlushMs,
    speech,
    alertStreamLingerMs,
    auth,
    bootstrapToken,
    deviceVerifier,
    deviceSharedSecret,
    ...rest
  } = options
  const config: ControlPlaneConfig = { ...DEFAULT_CONFIG, ...rest, dataDir: path.resolve(options.dataDir) }
  const log =
    givenLogger ?? pino({ level: config.logLevel, base: { service: 'loa-control-plane' }, redact: REDACT })
  const topics = topicTree(config.topicRoot)

  const repos = openSqliteRepositories(path.join(config.dataDir, 'loa.db'))
  let broker: EmbeddedBroker | null = null
  let mqtt: MqttLink | null = null
  let app: App | null = null
  try {
    if (config.mqttUrl === null) {
      broker = await startEmbeddedBroker({ host: config.mqttHost, port: config.mqttPort, hooks: brokerHooks })
    }
    const mqttUrl = config.mqttUrl ?? (broker as EmbeddedBroker).url
    const metrics = createMetrics(repos)
    mqtt = new MqttLink(mqttUrl, Ingest.subscriptions(topics), log.child({ component: 'mqtt' }))
    const desired = new DesiredService({
      repos,
      mqtt,
      topics,
      metrics,
      log: log.child({ component: 'desired' }),
      timezone: config.timezone,
      debounceMs: desiredDebounceMs,
    })
    const ingest = new Ingest({
      repos,
      mqtt,
      topics,
      metrics,
      desired,
      log: log.child({ component: 'ingest' }),
      heartbeatTimeoutS: config.heartbeatTimeoutS,
      flushMs: ingestFlushMs,
    })
    // Never rely on the broker remembering: every (re)connect re-publishes every device's state from the database.
    mqtt.on('connect', () => void desired.republishAll())
    // Alerts and live relays share one band-ordered send queue: an emergency overtakes a relay being sent.
    const fanout = new CommandFanout({ mqtt, topics, metrics, log: log.child({ component: 'fanout' }) })
    const alerts = new AlertsService({
      repos,
      mqtt,
      topics,
      desired,
      ingest,
      metrics,
      fanout,
      desiredDelayMs: alertDesiredDelayMs,
      log: log.child({ component: 'alerts' }),
    })
    const lives = new LivesService({
      repos,
      desired,
      ingest,
      fanout,
      log: log.child({ component: 'lives' }),
    })
    if (bootstrapToken) {
      const tokenId = await ensureBootstrapToken(repos, bootstrapToken)
      // The id only: the secret never reaches a log.
      log.info({ tokenId }, 'bootstrap API token ensured (LOA_BOOTSTRAP_TOKEN)')
    }
    await ingest.start()
    await alerts.start()
    await lives.start()

    app = await buildApp(
      {
        config,
        repos,
        desired,
        ingest,
        mqtt,
        metrics,
        topics,
        alerts,
        lives,
        speech: speech ?? new EspeakEngine(),
        alertStream: { streamLingerMs: alertStreamLingerMs },
        audit: new AuditLog(repos.audit, log.child({ component: 'audit' })),
        auth: { ...DEFAULT_AUTH, ...auth },
        deviceVerifier:
          deviceVerifier ??
          (deviceSharedSecret ? sharedSecretVerifier(repos, deviceSharedSecret) : undefined),
      },
      log,
    )
    await app.listen({ host: config.httpHost, port: config.httpPort })
    const address = app.server.address()
    const port = typeof address === 'object' && address ? address.port : config.httpPort
    const httpUrl = `http://${urlHost(config.httpHost)}:${port}`

    try {
      await mqtt.waitConnected(10_000)
    } catch (err) {
      // An external broker may come later; the client keeps retrying and republishes on connect.
      log.warn({ err: (err as Error).message, mqttUrl }, 'mqtt broker not reachable yet')
    }
    // Config (e.g. time zone) may have changed since the last run.
    desired.invalidate()
    await desired.settle()

    log.info({ httpUrl, mqttUrl }, 'control plane ready')
    const theApp = app
    const theMqtt = mqtt
    let closing: Promise<void> | null = null
    return {
      app: theApp,
      httpUrl,
      mqttUrl,
      close() {
        closing ??= (async () => {
          await theApp.close()
          await alerts.close()
          await lives.close()
          await ingest.close()
          await desired.close()
          await theMqtt.close()
          await broker?.close()
          await repos.close()
          log.info('control plane closed')
        })()
        return closing
      },
    }
  } catch (err) {
    await app?.close().catch(() => {})
    await mqtt?.close().catch(() => {})
    await broker?.close().catch(() => {})
    await repos.close()
    throw err
  }
}
