import type { TopicTree, UnaddressedCommandBody } from '@loa/shared'
import type { Logger } from 'pino'
import { AlertDispatcher, type DispatchResult, type Publish } from '../alerts/dispatch.js'
import type { MqttLink } from '../mqtt/link.js'
import type { Metrics } from '../server/metrics.js'
import { addressedPublishes, type SignEnvelope } from './message.js'

/**
 * Sends commands that target many clusters (alerts, live relays): one QoS 1 publish per unit topic, one per device
 * for what a unit topic cannot express. Alerts and live relays share ONE band-ordered queue, so an emergency raised
 * while a relay is being sent goes out first.
 */
export class CommandFanout {
  private readonly dispatcher: AlertDispatcher

  constructor(
    private readonly o: {
      mqtt: MqttLink
      topics: TopicTree
      metrics: Metrics
      log: Logger
      /** Signs every command (devices/signing-keys.ts). */
      sign?: SignEnvelope
    },
    maxQueued?: number,
  ) {
    this.dispatcher = new AlertDispatcher(o.mqtt, o.log, maxQueued)
  }

  /**
   * The command addressed to exactly these units and devices (signed recipients, commands/message.ts), one publish
   * per topic; a device that hears it twice executes it once (by `commandId`, or alert/live id and revision).
   */
  publishes(body: UnaddressedCommandBody, to: { unitTopics: string[]; deviceTopics: string[] }): Publish[] {
    return addressedPublishes(
      body,
      { units: to.unitTopics, devices: to.deviceTopics },
      { unit: (u) => this.o.topics.unitCommands(u), device: (d) => this.o.topics.device(d, 'cmd') },
      this.o.sign,
    )
  }

  /** Queues the publishes at the command's band and counts them (`loa_alert_publishes_total{kind,result}`). */
  async send(kind: string, priority: number, publishes: Publish[]): Promise<DispatchResult> {
    const r = await this.dispatcher.send(priority, publishes)
    this.o.metrics.alertPublishes.inc({ kind, result: 'ok' }, r.published)
    if (r.failed > 0) this.o.metrics.alertPublishes.inc({ kind, result: 'failed' }, r.failed)
    return r
  }

  /**
   * A command for a few devices, published at once and awaited (not queued behind alerts): an operator waits for
   * it, and a publish that fails is their error. Same envelope as every other command (commands/message.ts).
   */
  async sendNow(body: UnaddressedCommandBody, deviceIds: readonly string[]): Promise<void> {
    for (const p of this.publishes(body, { unitTopics: [], deviceTopics: [...deviceIds] })) {
      await this.o.mqtt.publish(p.topic, p.payload)
    }
  }

  get queued(): number {
    return this.dispatcher.queued
  }
}
