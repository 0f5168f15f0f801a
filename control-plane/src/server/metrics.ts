import { Counter, Gauge, Registry } from 'prom-client'
import type { Repositories } from '../repositories.js'

export interface Metrics {
  registry: Registry
  messages: Counter<'channel'>
  rejected: Counter<'code' | 'channel'>
  unknownDevice: Counter<'channel'>
  desiredPublished: Counter
  /** Desired-state recomputations run (each serves every change marked while the previous one ran). */
  desiredRecomputations: Counter
  /** A queued desired state replaced by a newer one before it was sent. */
  desiredSuperseded: Counter
  /** Desired states not stored (the cluster keeps its last valid one), by the limit they broke. */
  desiredRefused: Counter<'limit'>
  ingestBatches: Counter
  alertPublishes: Counter<'kind' | 'result'>
}

/**
 * Prometheus metrics. Fleet and play gauges are read from the database at scrape time, so they are right after a
 * restart; counters count what this process saw.
 */
export function createMetrics(repos: Repositories): Metrics {
  const registry = new Registry()
  new Gauge({
    name: 'loa_devices_total',
    help: 'Registered loudspeaker clusters',
    registers: [registry],
    async collect() {
      this.set((await repos.clusters.counts()).total)
    },
  })
  new Gauge({
    name: 'loa_devices_online',
    help: 'Clusters currently online',
    registers: [registry],
    async collect() {
      this.set((await repos.clusters.counts()).online)
    },
  })
  new Gauge({
    name: 'loa_plays_total',
    help: 'Proof-of-play records stored',
    registers: [registry],
    async collect() {
      this.set(await repos.ingest.countPlays())
    },
  })
  new Gauge({
    name: 'loa_untargeted_reports_total',
    help: 'Acks and plays from clusters the command, alert or live relay never targeted (recorded, not counted)',
    labelNames: ['channel', 'thing'],
    registers: [registry],
    async collect() {
      this.reset()
      for (const r of await repos.ingest.countUntargeted())
        this.set({ channel: r.channel, thing: r.thing }, r.n)
    },
  })
  new Gauge({
    name: 'loa_alerts_active',
    help: 'Alerts currently active',
    registers: [registry],
    async collect() {
      this.set((await repos.alerts.list({ state: 'active' })).length)
    },
  })
  return {
    registry,
    messages: new Counter({
      name: 'loa_mqtt_messages_total',
      help: 'Upward MQTT messages accepted, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'loa_messages_rejected_total',
      help: 'Upward MQTT messages rejected, by error code',
      labelNames: ['code', 'channel'],
      registers: [registry],
    }),
    unknownDevice: new Counter({
      name: 'loa_mqtt_unknown_device_total',
      help: 'Upward MQTT messages from devices that are not registered',
      labelNames: ['channel'],
      registers: [registry],
    }),
    desiredPublished: new Counter({
      name: 'loa_desired_published_total',
      help: 'Desired states published to devices',
      registers: [registry],
    }),
    ingestBatches: new Counter({
      name: 'loa_ingest_batches_total',
      help: 'Ingest transactions committed',
      registers: [registry],
    }),
    desiredRecomputations: new Counter({
      name: 'loa_desired_recomputations_total',
      help: 'Desired-state recomputations (changes made while one runs are all taken by the next)',
      registers: [registry],
    }),
    desiredSuperseded: new Counter({
      name: 'loa_desired_superseded_total',
      help: 'Desired states replaced by a newer version while waiting to be published (never sent)',
      registers: [registry],
    }),
    desiredRefused: new Counter({
      name: 'loa_desired_refused_total',
      help: 'Compiled desired states refused for breaking a limit agents enforce (last valid state kept), by limit',
      labelNames: ['limit'],
      registers: [registry],
    }),
    alertPublishes: new Counter({
      name: 'loa_alert_publishes_total',
      help: 'Alert commands published (one per unit or device topic), by kind and result',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
  }
}
