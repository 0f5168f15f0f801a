import { EventEmitter } from 'node:events'
import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from 'pino'

export const CONTROL_PLANE_CLIENT_ID = 'loa-control-plane'

export interface MqttLinkEvents {
  connect: []
  message: [topic: string, payload: Buffer]
}

/**
 * The control plane's one MQTT client, used the same way for the embedded and an external broker. Nothing that must
 * survive lives in its memory queue: desired states are re-published from the database on every (re)connect, and
 * devices re-send upward messages until they get a receipt.
 */
export class MqttLink extends EventEmitter<MqttLinkEvents> {
  private readonly client: MqttClient

  constructor(
    url: string,
    private readonly subscriptions: string[],
    private readonly log: Logger,
    /** The control plane's broker identity, and the CA to trust for mqtts:// (docs/security.md). */
    auth: { username?: string; password?: string; ca?: Buffer } = {},
  ) {
    super()
    this.client = mqtt.connect(url, {
      ...(auth.username ? { username: auth.username, password: auth.password } : {}),
      ...(auth.ca ? { ca: auth.ca } : {}),
      clientId: CONTROL_PLANE_CLIENT_ID,
      protocolVersion: 4,
      // A persistent session: while this client is briefly away the broker queues devices' QoS 1 messages for it.
      // Devices still re-send until receipted, so a broker that forgets sessions loses nothing either.
      clean: false,
      queueQoSZero: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
    })
    this.client.on('connect', () => {
      this.log.info({ url }, 'mqtt connected')
      this.client.subscribe(this.subscriptions, { qos: 1 }, (err) => {
        if (err) this.log.error({ err }, 'mqtt subscribe failed')
        else this.emit('connect')
      })
    })
    this.client.on('close', () => this.log.debug('mqtt connection closed'))
    this.client.on('error', (err) => this.log.warn({ err: err.message }, 'mqtt error'))
    this.client.on('message', (topic, payload) => this.emit('message', topic, payload))
  }

  get connected(): boolean {
    return this.client.connected
  }

  /** Resolves once the broker has acknowledged (QoS 1); rejects when offline rather than queueing in memory. */
  publish(topic: string, payload: Buffer, opts: { retain?: boolean } = {}): Promise<void> {
    if (!this.client.connected) return Promise.reject(new Error('mqtt not connected'))
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos: 1, retain: opts.retain ?? false }, (err) =>
        err ? reject(err) : resolve(),
      )
    })
  }

  waitConnected(timeoutMs: number): Promise<void> {
    if (this.client.connected) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`mqtt: not connected after ${timeoutMs} ms`)), timeoutMs)
      this.once('connect', () => {
        clearTimeout(t)
        resolve()
      })
    })
  }

  async close(): Promise<void> {
    await this.client.endAsync()
  }
}
