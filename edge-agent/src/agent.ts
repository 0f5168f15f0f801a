import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type TopicTree, topicTree } from '@loa/shared'
import type { Logger } from 'pino'
import { agentHardware } from './agent-hardware.js'
import { technicianPorts } from './agent-technician.js'
import { AlertManager } from './alerts/alerts.js'
import { Clock, monotonicMs } from './clock/clock.js'
import { watchClock } from './clock/events.js'
import { clockSyncFrom } from './clock/sync.js'
import type { AgentConfig } from './config/config.js'
import { DesiredGate } from './desired/gate.js'
import { Reconciler } from './desired/reconciler.js'
import { DesiredStore } from './desired/store.js'
import { AgentError } from './errors.js'
import type { AmpSwitch } from './hardware/amp-switch.js'
import type { Modem } from './hardware/modem/modem.js'
import { ZoneTests } from './hardware/zone-test.js'
import type { Zones } from './hardware/zones.js'
import { readHealth } from './health/health.js'
import { markStopped, takePreviousRun } from './health/run-marker.js'
import { Commands } from './link/commands.js'
import { MessageIntake } from './link/intake.js'
import { MqttLink } from './link/mqtt.js'
import { Outbox, type OutboxOptions } from './link/outbox.js'
import { Telemetry } from './link/telemetry.js'
import { MessageVerifier } from './link/verify.js'
import { accessFetch, httpAccess } from './link/verify-http.js'
import { MediaCache } from './media/cache.js'
import type { AudioCardWatch } from './playback/audio-cards.js'
import { LiveManager } from './relays/live.js'
import type { LiveTimeouts } from './relays/live-player.js'
import { Scheduler } from './schedule/scheduler.js'
import { AgentStorage } from './storage/agent-storage.js'
import type { Db } from './storage/db.js'
import type { StorageGuard } from './storage/guard.js'
import { LocalPlays } from './technician/plays.js'
import type { TechnicianPorts } from './technician/ports.js'

export const AGENT_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string
    }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
})()

/** Knobs tests turn; production uses the defaults. */
export interface AgentTuning {
  outbox?: OutboxOptions
  retryBaseMs?: number
  lateToleranceMs?: number
  graceMs?: number
  flushIntervalMs?: number
  live?: { retryBaseMs?: number; retryMaxMs?: number; timeouts?: Partial<LiveTimeouts> }
}

const MB = 1024 * 1024

/** Wires the parts together: db → outbox → cache/reconciler → scheduler/player/amplifier switch → MQTT link. */
export class Agent {
  readonly db: Db
  /** "Now", the signed-time floor, monotonic time and clock jumps (clock/clock.ts, docs/edge-agent.md "Time"). */
  readonly clock: Clock
  /** Database and disk faults seen while running (storage/guard.ts). */
  readonly storage: StorageGuard
  /** The database and the data disk: recovery, full disk, pruning (storage/agent-storage.ts). */
  readonly disk: AgentStorage
  /** The database turned out damaged while running: main.ts exits so that the next start recovers it. */
  onStorageCorrupt: (err: unknown) => void = () => {}
  /** Signatures, deadlines and replays of everything the control plane sends (link/verify.ts). */
  readonly verifier: MessageVerifier
  readonly outbox: Outbox
  readonly cache: MediaCache
  readonly store: DesiredStore
  readonly ampSwitch: AmpSwitch
  /** The box's hardware, zone by zone (BoxControls for the technician's page). */
  readonly box: Zones
  /** The output's sound card: missing or busy is reported and retried. */
  readonly card: AudioCardWatch
  /** The 4G modem, when `modem.port` is configured. */
  readonly modem: Modem | null
  readonly reconciler: Reconciler
  readonly scheduler: Scheduler
  readonly commands: Commands
  readonly alerts: AlertManager
  readonly lives: LiveManager
  readonly link: MqttLink
  readonly telemetry: Telemetry
  readonly tree: TopicTree
  readonly localPlays: LocalPlays
  readonly zoneTests: ZoneTests
  /** All the technician's page reaches of the agent (technician/ports.ts). */
  readonly technician: TechnicianPorts
  /** Every message that comes down: checks, drops, refusals, dispatch (link/intake.ts). */
  private readonly intake: MessageIntake
  /** Drops desired states not newer than the one held before any work (desired/gate.ts). */
  readonly desiredGate: DesiredGate
  private startupVerify: Promise<void> = Promise.resolve()

  constructor(
    readonly config: AgentConfig,
    private readonly log: Logger,
    tuning: AgentTuning = {},
  ) {
    this.tree = topicTree(config.topicRoot)
    if (!config.controlPlaneKey && !config.insecureAcceptUnsigned) {
      throw new AgentError('LOA_CONFIG_INVALID', [
        'controlPlaneKey: is required (the key from GET /api/signing-keys), or insecureAcceptUnsigned for development',
      ])
    }
    this.disk = new AgentStorage(config, log.child({ c: 'storage' }), {
      onCorrupt: (err) => this.onStorageCorrupt(err),
      outbox: () => this.outbox,
      handleMessage: (t, p) => this.intake.handle(t, p),
    })
    this.db = this.disk.db
    this.storage = this.disk.guard
    const clock = new Clock({
      db: this.db,
      sync: clockSyncFrom(config.clock?.sync ?? 'auto'),
      jumpThresholdMs: config.clock?.jumpThresholdMs,
    })
    this.clock = clock
    // Media downloads authenticate with the device's MQTT credentials (HTTP Basic) and trust the configured CA.
    const access = httpAccess({
      controlPlaneUrl: config.controlPlaneUrl,
      username: config.mqtt.username ?? config.deviceId,
      password: config.mqtt.password,
      tls: config.tls,
    })
    this.verifier = new MessageVerifier(
      this.db,
      config.controlPlaneKey ?? null,
      (n) => this.outbox.event(n.kind, 'info', n.message, n.data),
      clock,
    )
    this.outbox = new Outbox(this.db, { ...tuning.outbox, now: () => clock.now() })
    this.cache = new MediaCache(this.db, join(config.dataDir, 'media'), this.outbox)
    this.store = new DesiredStore(this.db, config.deviceId)
    this.desiredGate = new DesiredGate(this.outbox, () => this.store.received()?.version, monotonicMs)
    const hw = agentHardware(config, { db: this.db, outbox: this.outbox, log, clock })
    this.box = hw.box
    this.ampSwitch = this.box
    this.card = hw.card
    this.modem = hw.modem
    this.reconciler = new Reconciler({
      db: this.db,
      store: this.store,
      cache: this.cache,
      outbox: this.outbox,
      log: log.child({ c: 'reconciler' }),
      controlPlaneUrl: config.controlPlaneUrl,
      fetch: accessFetch(access),
      agentVersion: AGENT_VERSION,
      dataDir: config.dataDir,
      cacheBudgetBytes: Math.round(config.cacheBudgetMb * MB),
      minFreeBytes: Math.round(config.minFreeMb * MB),
      defaultTimezone: config.timezone,
      retryBaseMs: tuning.retryBaseMs,
      now: () => clock.now(),
      extraMedia: () => this.alerts.media(),
      storage: this.storage,
      roomRetryMs: this.disk.diskCheckMs,
    })
    this.scheduler = new Scheduler({
      db: this.db,
      outbox: this.outbox,
      cache: this.cache,
      player: hw.player(),
      ampSwitch: this.ampSwitch,
      log: log.child({ c: 'scheduler' }),
      desired: () => this.store.received()?.body ?? null,
      defaultTimezone: config.timezone,
      prerollMs: config.prerollMs,
      postrollMs: config.postrollMs,
      lateToleranceMs: tuning.lateToleranceMs,
      clock,
      graceMs: tuning.graceMs,
      onCorrupt: () => this.reconciler.kick(),
      durationOf: (sha) => this.alerts.durationOf(sha),
      storage: this.storage,
      alertHooks: {
        started: (a) => this.alerts.started(a),
        finished: (a, played, failures) => this.alerts.finished(a, played, failures),
      },
      liveHooks: {
        // Local plays (tests, the technician's announcements) take their turns through the same hook.
        play: (q, ctl) => (LocalPlays.isLocal(q) ? this.localPlays.play(q, ctl) : this.lives.play(q, ctl)),
        nowPlaying: () => this.localPlays.nowPlaying() ?? this.lives.nowPlaying(),
      },
    })
    this.alerts = new AlertManager({
      db: this.db,
      outbox: this.outbox,
      cache: this.cache,
      log: log.child({ c: 'alerts' }),
      fetch: (m) => this.reconciler.fetcher.fetch(m),
      enqueue: (q) => this.scheduler.enqueueAlert(q),
      withdraw: (id, reason) => this.scheduler.withdrawAlert(id, reason),
      volume: () => this.store.received()?.body.volume ?? 100,
      clock,
    })
    this.lives = new LiveManager({
      db: this.db,
      outbox: this.outbox,
      log: log.child({ c: 'live' }),
      output: hw.output,
      enqueue: (q) => this.scheduler.enqueueAlert(q),
      withdraw: (id, reason) => this.scheduler.withdrawLive(id, reason),
      desired: () => this.store.received()?.body ?? null,
      defaultTimezone: config.timezone,
      volume: () => this.store.received()?.body.volume ?? 100,
      clock,
      ...tuning.live,
    })
    this.localPlays = new LocalPlays({
      outbox: this.outbox,
      log: log.child({ c: 'local' }),
      player: hw.player(),
      controls: () => this.box,
      enqueue: (q) => this.scheduler.enqueueAlert(q),
      withdraw: (id, reason) => this.scheduler.withdrawLive(id, reason),
      volume: () => this.store.received()?.body.volume ?? 100,
      clock,
    })
    this.zoneTests = new ZoneTests({
      plays: this.localPlays,
      controls: () => this.box,
      outbox: this.outbox,
      dataDir: config.dataDir,
      clock,
    })
    this.commands = new Commands(this.db, this.outbox, log.child({ c: 'commands' }), {
      resync: () => this.resync(),
      alert: (a, topic, deadline) => this.alerts.receive(a, topic, deadline),
      cancelAlert: (id, topic) => this.alerts.cancel(id, topic),
      live: (l, topic, deadline) => this.lives.receive(l, topic, deadline),
      stopLive: (id, topic) => this.lives.stopLive(id, topic),
      test: (t, commandId, deadline) => this.zoneTests.command(t, commandId, deadline),
      clock,
    })
    this.link = new MqttLink({
      url: config.mqtt.urls ?? config.mqtt.url,
      username: config.mqtt.username,
      password: config.mqtt.password,
      tls: access.tls,
      deviceId: config.deviceId,
      tree: this.tree,
      outbox: this.outbox,
      log: log.child({ c: 'mqtt' }),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      onConnect: () => void this.reconciler.enqueueReportedState().catch(() => {}),
      flushIntervalMs: tuning.flushIntervalMs,
    })
    this.telemetry = new Telemetry({
      outbox: this.outbox,
      dataDir: config.dataDir,
      ampSwitch: this.ampSwitch,
      scheduler: this.scheduler,
      agentVersion: AGENT_VERSION,
      intervalS: config.telemetryIntervalS,
      clock,
      extra: async () => ({ ...this.modem?.status(), health: await readHealth() }),
      storage: this.storage,
    })
    this.intake = new MessageIntake({
      deviceId: config.deviceId,
      tree: this.tree,
      clock: this.clock,
      log: log.child({ c: 'intake' }),
      outbox: this.outbox,
      verifier: this.verifier,
      store: this.store,
      desiredGate: this.desiredGate,
      reconciler: this.reconciler,
      link: this.link,
      scheduler: this.scheduler,
      alerts: this.alerts,
      lives: this.lives,
      commands: this.commands,
      storage: this.storage,
      retryOnFullDisk: (topic, payload, err) => this.disk.fullDisk.retry(topic, payload, err),
    })
    this.technician = technicianPorts(this, AGENT_VERSION)
  }

  async start(): Promise<void> {
    this.outbox.event('agent-started', 'info', `agent ${AGENT_VERSION} started`, {
      agentVersion: AGENT_VERSION,
      pid: process.pid,
    })
    // Room back after a full disk: plays kept in memory, downloads and the reported state are tried again.
    this.disk.start(this.outbox, () => {
      this.scheduler.plays.flush()
      this.reconciler.roomReturned()
      void this.reconciler.enqueueReportedState().catch((err) => this.storage.handle(err))
    })
    const previous = takePreviousRun(this.db, process.pid)
    if (previous) {
      this.outbox.event(
        'agent-restarted',
        'warning',
        `previous run ended without a clean stop: ${previous.cause}`,
        {
          ...previous,
        },
      )
    }
    this.link.setUnits(this.store.received()?.body.units ?? [])
    watchClock(this.clock, { outbox: this.outbox, log: this.log, flush: () => this.link.flush() })
    this.clock.start()
    // Nothing plays yet: every zone off (and reported if an unclean exit left one on).
    await this.box.start()
    // Hashing a 2 GB cache takes a Pi 4 most of a minute: play and connect first (every item is verified again
    // right before it plays), verify the whole cache in the background, then fetch what was bad.
    this.scheduler.start()
    // After the scheduler: alerts active before a restart are queued again, then those of the desired state.
    this.alerts.start()
    this.alerts.sync(this.store.received()?.body.alerts ?? [])
    this.lives.start()
    const held = this.store.received()?.body
    if (held) this.lives.sync(held)
    this.link.start()
    this.modem?.start()
    this.card.start()
    this.telemetry.start()
    this.reconciler.kick()
    this.startupVerify = this.cache
      .verifyAll()
      .then((bad) => {
        if (bad.length > 0) this.reconciler.kick()
      })
      .catch((err) => this.log.error({ err }, 'cache verification failed'))
    this.log.info({ deviceId: this.config.deviceId, version: AGENT_VERSION }, 'agent started')
  }

  async stop(): Promise<void> {
    this.clock.stop()
    await this.disk.stop()
    this.telemetry.stop()
    this.modem?.stop()
    this.card.stop()
    this.alerts.stop()
    this.reconciler.stop()
    await this.scheduler.stop()
    // After the scheduler, so a live relay playing is reported interrupted by shutdown, not dropped.
    this.lives.stop()
    this.localPlays.stop()
    await this.startupVerify
    this.link.flush()
    await this.link.stop()
    await this.reconciler.idle().catch(() => {})
    // Every zone off and no gpioset left holding a line (the scheduler already switched them off).
    this.box.offSync()
    markStopped(this.db)
    this.db.close()
    this.log.info('agent stopped')
  }

  async resync(): Promise<void> {
    await this.cache.verifyAll()
    this.reconciler.kick()
    await this.reconciler.idle()
    await this.reconciler.enqueueReportedState()
  }

  /** Every incoming message (link/intake.ts). Never throws. */
  onMessage(topic: string, payload: Buffer): void {
    this.intake.receive(topic, payload)
  }

  /** When the province last sent anything (a receipt, a command, a state), for the technician's page. */
  get lastContactAt(): number | null {
    return this.intake.lastContactAt
  }
}
