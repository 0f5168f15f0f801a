import path from 'node:path'
import { topicTree } from '@loa/shared'
import pino, { type Logger } from 'pino'
import { ensureBootstrapToken } from './access/api-tokens.js'
import { type AuthSettings, DEFAULT_AUTH } from './access/settings.js'
import { AlertsService } from './alerts/service.js'
import { buildApp } from './app.js'
import { AuditLog } from './audit/log.js'
import { CommandFanout } from './commands/fanout.js'
import { type ControlPlaneConfig, DEFAULT_CONFIG } from './config.js'
import type { App, DeviceVerifier, Services } from './context.js'
import { type ClusterProblem, DesiredService } from './desired/service.js'
import { deviceCredentialsFor, unitsOfCluster } from './devices/security.js'
import { SigningKeys } from './devices/signing-keys.js'
import { mediaLanesFrom } from './media/lanes.js'
import { type BrokerAuthHooks, type EmbeddedBroker, startEmbeddedBroker } from './mqtt/broker.js'
import { BrokerAuth, type Refusal } from './mqtt/broker-auth.js'
import { type BrokerIdentity, controlPlaneIdentity, MONITOR_USERNAME } from './mqtt/broker-identity.js'
import { BrokerConnectionGuard } from './mqtt/broker-limits.js'
import { MqttLink } from './mqtt/link.js'
import { LivesService } from './relays/live-service.js'
import { startRequestedLedger } from './reports/requested-ledger.js'
import { REDACT } from './server/log-redact.js'
import { createMetrics } from './server/metrics.js'
import { loadTls } from './server/tls.js'
import { openSqliteRepositories } from './sqlite.js'
import { TtsRegistry } from './tts/registry.js'
import { EspeakEngine, type SpeechEngine, type TtsEngine } from './tts/speech.js'
import { Ingest } from './uplink/ingest.js'

export { newApiTokenString, parseApiToken } from './access/api-tokens.js'
export type { ApiToken, AuditEntry } from './access/model.js'
export type { AuthSettings } from './access/settings.js'
export type * from './alerts/model.js'
export type * from './alerts/repository.js'
export { createFirstAdmin, type FirstAdminInput, type FirstAdminResult, initDataDir } from './bootstrap.js'
export type * from './bulletins/model.js'
export type { ProgrammeView } from './bulletins/programmes.js'
// The workflow (and reports/) repositories are internal: only content storage is part of the package's types.
export type { ContentRepository } from './bulletins/repository.js'
export type * from './commands/model.js'
export { ConfigError, type ControlPlaneConfig, loadConfigFromEnv } from './config.js'
export type { DeviceVerifier } from './context.js'
export type * from './desired/model.js'
export type * from './desired/repository.js'
export type { CredentialStatus, IssuedCredentials } from './devices/credentials.js'
export { type DeviceSecurity, openDeviceSecurity } from './devices/security.js'
export type { SigningKeyInfo } from './devices/signing-keys.js'
export { currentSigningKey, rotateSigningKey } from './devices/signing-keys.js'
export type * from './media/model.js'
export type * from './media/repository.js'
export { deviceClientId } from './mqtt/broker-auth.js'
export { CONTROL_PLANE_USERNAME, MONITOR_USERNAME } from './mqtt/broker-identity.js'
export type * from './org/model.js'
export type * from './org/repository.js'
export type * from './relays/model.js'
export type * from './relays/repository.js'
export type { Report, ReportDay, ReportFigures } from './reports/reports.js'
export type * from './repositories.js'
export type { CalendarConflict, CalendarOccurrence } from './schedules/calendar.js'
export type * from './schedules/model.js'
export type * from './schedules/repository.js'
export { LoaError, type LoaErrorCode, LoaErrorCodes } from './server/errors.js'
export type { Voice } from './tts/registry.js'
export type * from './uplink/model.js'
export type * from './uplink/repository.js'

export interface ControlPlaneOptions extends Partial<Omit<ControlPlaneConfig, 'mqttLimits' | 'httpLimits'>> {
  dataDir: string
  /** Limits, each field defaulting on its own (tests shorten some). */
  mqttLimits?: Partial<ControlPlaneConfig['mqttLimits']>
  httpLimits?: Partial<ControlPlaneConfig['httpLimits']>
  logger?: Logger
  /** Replaces the embedded broker's access control (mqtt/broker-auth.ts); tests only. */
  brokerHooks?: BrokerAuthHooks
  /** Debounce of desired-state recomputation (ms); tests may shorten it. */
  desiredDebounceMs?: number
  /** Delay before a raised alert's targets get their new desired states (ms; 0 = before the API answers). */
  alertDesiredDelayMs?: number
  /** Ingest flush interval (ms). */
  ingestFlushMs?: number
  /** Text-to-speech for CAP alerts without audio (default: espeak-ng, offline). */
  speech?: SpeechEngine
  /** Text-to-speech engines for the console (default: espeak-ng's three Vietnamese voices). */
  ttsEngines?: TtsEngine[]
  /** `engine:voice` spoken when a request names none. */
  ttsDefaultVoice?: string
  /** How long an alert's SSE stream stays open after the alert is withdrawn or expired (ms). */
  alertStreamLingerMs?: number
  /** Session, lockout and login rate-limit tuning (tests shorten them). */
  auth?: Partial<AuthSettings>
  /** LOA_BOOTSTRAP_TOKEN: a province-admin API token with exactly this value is made to exist at start. */
  bootstrapToken?: string
  /** Checks device credentials (HTTP Basic) for media downloads. */
  deviceVerifier?: DeviceVerifier
  /** How often the requested-minutes ledger is written (reports/requested-ledger.ts); default a minute. */
  requestedLedgerEveryMs?: number
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
    requestedLedgerEveryMs,
    ttsEngines,
    ttsDefaultVoice,
    ...rest
  } = options
  const config: ControlPlaneConfig = {
    ...DEFAULT_CONFIG,
    ...rest,
    mqttLimits: { ...DEFAULT_CONFIG.mqttLimits, ...rest.mqttLimits },
    httpLimits: { ...DEFAULT_CONFIG.httpLimits, ...rest.httpLimits },
    dataDir: path.resolve(options.dataDir),
  }
  const log =
    givenLogger ?? pino({ level: config.logLevel, base: { service: 'loa-control-plane' }, redact: REDACT })
  const topics = topicTree(config.topicRoot)

  const repos = openSqliteRepositories(path.join(config.dataDir, 'loa.db'), {
    log: log.child({ component: 'storage' }),
  })
  const tls = loadTls(config)
  const signingKeys = SigningKeys.open(config.dataDir)
  const sign = <M extends Record<string, unknown>>(msg: M): M => signingKeys.sign(msg)
  const credentials = deviceCredentialsFor(repos)
  const identity = controlPlaneIdentity({
    dataDir: config.dataDir,
    username: config.mqttUsername,
    password: config.mqttPassword,
  })
  const monitor: BrokerIdentity | null = config.mqttMonitorPassword
    ? { username: MONITOR_USERNAME, password: config.mqttMonitorPassword }
    : null
  // Set once ingest exists: refusals of known devices are recorded as their events.
  let recordRefusal: (r: Refusal) => void = () => {}
  let recordDesiredProblem: (clusterId: string, problem: ClusterProblem | null) => void = () => {}
  const brokerAuth =
    config.mqttUrl === null
      ? new BrokerAuth({
          topics,
          credentials,
          controlPlane: identity,
          monitor,
          unitsOf: (id) => unitsOfCluster(repos, id),
          log: log.child({ component: 'broker-auth' }),
          onRefusal: (r) => recordRefusal(r),
          clientCertificates: config.mqttClientCerts,
          limits: config.mqttLimits,
        })
      : null
  credentials.onChange((deviceId) => brokerAuth?.disconnect(deviceId))
  let broker: EmbeddedBroker | null = null
  let mqtt: MqttLink | null = null
  let app: App | null = null
  let stopLedger: (() => Promise<void>) | null = null
  try {
    if (config.mqttUrl === null) {
      broker = await startEmbeddedBroker({
        host: config.mqttHost,
        port: config.mqttPort,
        hooks: brokerHooks ?? brokerAuth?.hooks(),
        ...(tls ? { tls: { ...tls, requestCert: config.mqttClientCerts } } : {}),
        ...(brokerAuth && !brokerHooks ? { guard: brokerGuard(brokerAuth) } : {}),
      })
    }
    const mqttUrl = config.mqttUrl ?? (broker as EmbeddedBroker).url
    const metrics = createMetrics(repos)
    brokerAuth?.useRegistry(metrics.registry)
    mqtt = new MqttLink(mqttUrl, Ingest.subscriptions(topics), log.child({ component: 'mqtt' }), {
      username: identity.username,
      password: identity.password,
      ...(tls?.ca ? { ca: tls.ca } : {}),
    })
    const desired = new DesiredService({
      repos,
      mqtt,
      topics,
      metrics,
      log: log.child({ component: 'desired' }),
      timezone: config.timezone,
      debounceMs: desiredDebounceMs,
      maxMessageBytes: config.desiredMaxBytes,
      publishQuietMs: config.desiredPublishQuietMs,
      publishMaxDelayMs: config.desiredPublishMaxDelayMs,
      sign,
      onSaved: (records) => {
        for (const r of records) brokerAuth?.setUnits(r.clusterId, r.body.units)
      },
      onProblem: (clusterId, problem) => recordDesiredProblem(clusterId, problem),
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
    recordRefusal = refusalRecorder(ingest)
    recordDesiredProblem = desiredProblemRecorder(ingest)
    // Never rely on the broker remembering: every (re)connect re-publishes every device's state from the database.
    mqtt.on('connect', () => void desired.republishAll())
    // Alerts and live relays share one band-ordered send queue: an emergency overtakes a relay being sent.
    const fanout = new CommandFanout({ mqtt, topics, metrics, log: log.child({ component: 'fanout' }), sign })
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

    const services: Services = {
      config,
      repos,
      desired,
      ingest,
      mqtt,
      metrics,
      topics,
      alerts,
      lives,
      fanout,
      lanes: mediaLanesFrom(config, metrics.registry),
      speech: speech ?? new EspeakEngine(),
      tts: new TtsRegistry(ttsEngines ?? [new EspeakEngine()], ttsDefaultVoice),
      credentials,
      signingKeys,
      brokerAuth,
      brokerIdentities: { controlPlane: identity, monitor },
      alertStream: { streamLingerMs: alertStreamLingerMs },
      audit: new AuditLog(repos.audit, log.child({ component: 'audit' })),
      auth: { ...DEFAULT_AUTH, ...auth },
      // Media downloads: each device with its own credentials, nothing installation-wide.
      deviceVerifier: deviceVerifier ?? credentials,
    }
    app = await buildApp(services, log, tls ? { https: tls } : {})
    stopLedger = startRequestedLedger(
      services,
      requestedLedgerEveryMs ?? 60_000,
      log.child({ component: 'ledger' }),
    )
    await app.listen({ host: config.httpHost, port: config.httpPort })
    const address = app.server.address()
    const port = typeof address === 'object' && address ? address.port : config.httpPort
    const httpUrl = `${tls ? 'https' : 'http'}://${urlHost(config.httpHost)}:${port}`

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
          // Media processes first: requests waiting on them would hold the HTTP server open. Their keep-alive
          // connections go idle once answered; close those as they do, or the server waits out the keep-alive.
          services.lanes.close()
          const idle = setInterval(() => theApp.server.closeIdleConnections(), 100)
          await theApp.close().finally(() => clearInterval(idle))
          await stopLedger?.()
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
    await stopLedger?.().catch(() => {})
    await app?.close().catch(() => {})
    await mqtt?.close().catch(() => {})
    await broker?.close().catch(() => {})
    await repos.close()
    throw err
  }
}

/** The embedded broker's connection limits, refusing through the same log, metric and events as its ACL. */
function brokerGuard(auth: BrokerAuth) {
  const connections = new BrokerConnectionGuard({
    limits: auth.limits,
    limitOf: (client) => auth.packetLimit(client),
    refuse: (r) => auth.refuseConnection(r),
  })
  return { connections, loginTimeoutMs: auth.limits.loginTimeoutMs }
}

/** Broker refusals of a known device become its events: at most 20 a minute per device, so a flood stays cheap. */
function refusalRecorder(ingest: Ingest): (r: Refusal) => void {
  const windows = new Map<string, { start: number; count: number }>()
  return (r) => {
    if (!r.deviceId) return
    const now = Date.now()
    let w = windows.get(r.deviceId)
    if (!w || now - w.start > 60_000) {
      if (windows.size > 10_000) windows.clear()
      w = { start: now, count: 0 }
      windows.set(r.deviceId, w)
    }
    if (++w.count > 20) return
    ingest.recordEvent(r.deviceId, {
      kind: 'broker-refused',
      severity: 'warning',
      message: `broker refused ${r.action}${r.topic ? ` on ${r.topic}` : ''}: ${r.reason}`,
      data: {
        action: r.action,
        reason: r.reason,
        clientId: r.clientId,
        ...(r.topic ? { topic: r.topic } : {}),
      },
    })
  }
}

/** A cluster's desired state refused for breaking a limit (or fine again) becomes its event, for the operator. */
function desiredProblemRecorder(ingest: Ingest): (clusterId: string, problem: ClusterProblem | null) => void {
  return (clusterId, p) => {
    ingest.recordEvent(
      clusterId,
      p
        ? {
            kind: 'desired-refused',
            severity: 'error',
            message: `desired state not published, ${p.keptVersion === null ? 'no valid version yet' : `v${p.keptVersion} kept`}: ${p.detail}`,
            data: { limit: p.limit, detail: p.detail, keptVersion: p.keptVersion },
          }
        : {
            kind: 'desired-valid',
            severity: 'info',
            message: 'desired state within the limits again',
          },
    )
  }
}
