import pino from 'pino'
import { describe, expect, it } from 'vitest'
import type { MqttLink } from '../mqtt/link.js'
import { AlertDispatcher } from './dispatch.js'

/** A link whose publishes complete only when the test releases them, to observe the queue's order. */
function slowLink() {
  const order: string[] = []
  const pending: (() => void)[] = []
  const link = {
    publish(topic: string) {
      order.push(topic)
      return new Promise<void>((resolve) => pending.push(resolve))
    },
  } as unknown as MqttLink
  const release = () => {
    for (const r of pending.splice(0)) r()
  }
  return { link, order, release }
}

const pub = (topic: string) => [{ topic, payload: Buffer.from('x') }]
const tick = () => new Promise((r) => setTimeout(r, 10))

describe('alert dispatcher', () => {
  it('sends queued alerts highest band first, then in arrival order, and refuses beyond its bound', async () => {
    const { link, order, release } = slowLink()
    const d = new AlertDispatcher(link, pino({ level: 'silent' }), 4)
    const sends = [d.send(100, pub('first-100'))]
    await tick() // the first job is in flight; the next ones queue
    sends.push(
      d.send(200, pub('a-200')),
      d.send(100, pub('b-100')),
      d.send(255, pub('c-255')),
      d.send(200, pub('d-200')),
    )
    expect(() => d.send(255, pub('overflow'))).toThrow(/already waiting/)
    for (let i = 0; i < 10 && order.length < 5; i++) {
      release()
      await tick()
    }
    release()
    const results = await Promise.all(sends)
    expect(order).toEqual(['first-100', 'c-255', 'a-200', 'd-200', 'b-100'])
    expect(results.every((r) => r.published === 1 && r.failed === 0)).toBe(true)
  })
})
