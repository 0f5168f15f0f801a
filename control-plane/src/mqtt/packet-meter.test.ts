import { describe, expect, it } from 'vitest'
import { mqttRemainingLength } from '../../test-kit/test-helpers.js'
import { MqttPacketMeter, type PacketKind } from './packet-meter.js'

const packet = (first: number, body: Buffer) =>
  Buffer.concat([Buffer.from([first, ...mqttRemainingLength(body.length)]), body])
const publish = (topic: string, payloadBytes: number) => {
  const t = Buffer.from(topic)
  const head = Buffer.alloc(2)
  head.writeUInt16BE(t.length)
  return packet(0x32, Buffer.concat([head, t, Buffer.from([0, 1]), Buffer.alloc(payloadBytes, 0x61)]))
}
const connect = (bytes: number) => packet(0x10, Buffer.alloc(bytes, 0x62))
const pingreq = Buffer.from([0xc0, 0x00])

/** Feeds `stream` in pieces of `size` bytes; returns the first verdict. */
function feedIn(meter: MqttPacketMeter, stream: Buffer, size: number) {
  for (let i = 0; i < stream.length; i += size) {
    const v = meter.feed(stream.subarray(i, i + size))
    if (v) return v
  }
  return null
}

describe('MqttPacketMeter', () => {
  const limit = (kind: PacketKind, topic: string | null) => {
    if (kind !== 'publish') return 100
    if (topic === null) return null
    return topic === 'big' ? 10_000 : 50
  }
  const legit = Buffer.concat([connect(100), publish('big', 9_000), pingreq, publish('small', 40), pingreq])

  it('lets packets within their limits through, however the stream is cut', () => {
    for (const size of [1, 2, 3, 7, 64, 1000, legit.length]) {
      expect(feedIn(new MqttPacketMeter(limit), legit, size)).toBeNull()
    }
  })

  it('refuses the first packet over its limit from its header (and the topic for a PUBLISH)', () => {
    for (const size of [1, 5, 4096]) {
      const huge = Buffer.from([0x10, ...mqttRemainingLength(200 * 1024 * 1024)])
      expect(feedIn(new MqttPacketMeter(limit), Buffer.concat([huge, Buffer.alloc(10)]), size)).toMatchObject(
        {
          kind: 'connect',
          declared: 200 * 1024 * 1024,
          limit: 100,
        },
      )
      const over = Buffer.concat([legit, publish('small', 60)])
      expect(feedIn(new MqttPacketMeter(limit), over, size)).toMatchObject({
        kind: 'publish',
        topic: 'small',
      })
    }
  })

  it('refuses a remaining length longer than four bytes', () => {
    expect(new MqttPacketMeter(limit).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toMatchObject({
      kind: 'malformed',
    })
  })
})
