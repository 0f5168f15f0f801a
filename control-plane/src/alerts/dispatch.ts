import type { Logger } from 'pino'
import type { MqttLink } from '../mqtt/link.js'
import { LoaError } from '../server/errors.js'

export interface Publish {
  topic: string
  payload: Buffer
}

interface Job {
  priority: number
  seq: number
  publishes: Publish[]
  resolve(r: DispatchResult): void
}

export interface DispatchResult {
  published: number
  failed: number
}

const WINDOW = 200

/**
 * Sends alert commands. Many alerts raised at once (Germany's 2020 warning day) queue here, bounded, and go out
 * highest band first, then in arrival order; one job at a time, each a window of QoS 1 publishes in flight.
 * A full queue is refused (503) rather than buffered without limit; the desired state still carries the alert.
 */
export class AlertDispatcher {
  private readonly queue: Job[] = []
  private running = false
  private seq = 0

  constructor(
    private readonly mqtt: MqttLink,
    private readonly log: Logger,
    private readonly maxQueued = 256,
  ) {}

  get queued(): number {
    return this.queue.length
  }

  send(priority: number, publishes: Publish[]): Promise<DispatchResult> {
    if (this.queue.length >= this.maxQueued) {
      throw new LoaError('LOA_UNAVAILABLE', `alerts: ${this.queue.length} alerts already waiting to be sent`)
    }
    return new Promise((resolve) => {
      this.queue.push({ priority, seq: this.seq++, publishes, resolve })
      this.queue.sort((a, b) => b.priority - a.priority || a.seq - b.seq)
      void this.drain()
    })
  }

  private async drain(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        const r: DispatchResult = { published: 0, failed: 0 }
        for (let i = 0; i < job.publishes.length; i += WINDOW) {
          await Promise.all(
            job.publishes.slice(i, i + WINDOW).map(async (p) => {
              try {
                await this.mqtt.publish(p.topic, p.payload)
                r.published++
              } catch (err) {
                // Devices that miss it converge through their desired state, re-published on reconnect.
                r.failed++
                this.log.warn({ topic: p.topic, err: (err as Error).message }, 'alert publish failed')
              }
            }),
          )
        }
        job.resolve(r)
      }
    } finally {
      this.running = false
    }
  }
}
