import { describe, expect, it } from 'vitest'
import {
  BrokerRotation,
  dedupeBrokerUrls,
  FAILOVER_BACKOFF_MAX_MS,
  FAILOVER_FLOOR_MS,
  fullJitterMs,
  parseBroker,
  startIndex,
} from './brokers.js'

/** A seeded generator (mulberry32): the same draws on every run. */
function seeded(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('broker failover: backoff, start offset, rotation', () => {
  it('full jitter: a wait in [floor, 1 s × 2^attempt], capped at 60 s, drawn from the injected random', () => {
    expect(fullJitterMs(0, () => 0)).toBe(FAILOVER_FLOOR_MS)
    expect(fullJitterMs(0, () => 0.5)).toBe(500)
    expect(fullJitterMs(3, () => 0.999)).toBe(7992)
    expect(fullJitterMs(40, () => 0.999)).toBe(Math.floor(0.999 * FAILOVER_BACKOFF_MAX_MS))
    expect(fullJitterMs(1000, () => 0.999)).toBeLessThanOrEqual(FAILOVER_BACKOFF_MAX_MS)
    const random = seeded(12)
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(FAILOVER_BACKOFF_MAX_MS, 1000 * 2 ** attempt)
      for (let i = 0; i < 50; i++) {
        const ms = fullJitterMs(attempt, random)
        expect(ms).toBeGreaterThanOrEqual(FAILOVER_FLOOR_MS)
        expect(ms).toBeLessThanOrEqual(cap)
      }
    }
  })

  it('full jitter spreads a province reconnecting at once over the whole window, not its upper half', () => {
    const random = seeded(7)
    // Attempt 6: 64 s, capped to 60 s.
    const waits = Array.from({ length: 1000 }, () => fullJitterMs(6, random))
    const window = FAILOVER_BACKOFF_MAX_MS
    // Ten equal slices of the window each get a share near 10 %: no stampede at either end.
    for (let slice = 0; slice < 10; slice++) {
      const lo = (slice * window) / 10
      const share = waits.filter((w) => w >= lo && w < lo + window / 10).length / waits.length
      expect(share).toBeGreaterThan(0.05)
      expect(share).toBeLessThan(0.15)
    }
  })

  it('start offset: hashed from the device id, stable, and a province spreads over the brokers', () => {
    expect(startIndex('pi-1', 1)).toBe(0)
    expect(startIndex('pi-1', 3)).toBe(startIndex('pi-1', 3))
    const counts = [0, 0, 0]
    for (let i = 0; i < 600; i++) {
      const at = startIndex(`xa-${i}`, 3)
      expect(at).toBeGreaterThanOrEqual(0)
      expect(at).toBeLessThan(3)
      counts[at] = (counts[at] as number) + 1
    }
    for (const c of counts) expect(c).toBeGreaterThan(150)
  })

  it('rotation: starts at the device offset, then round-robin over every broker', () => {
    const urls = ['mqtt://a:1883', 'mqtt://b:1883', 'mqtts://c']
    const r = new BrokerRotation(urls, 'pi-rot')
    const first = startIndex('pi-rot', 3)
    const seen = Array.from({ length: 6 }, () => r.next().host)
    const order = ['a', 'b', 'c']
    expect(seen).toEqual(Array.from({ length: 6 }, (_, i) => order[(first + i) % 3]))
    expect(() => new BrokerRotation([], 'pi-rot')).toThrow('no broker')
  })

  it('parses mqtt:// and mqtts:// (default ports, IPv6, credentials kept out of the display) and dedupes', () => {
    expect(parseBroker('mqtts://u:p%40ss@broker.tinh.vn')).toEqual({
      protocol: 'mqtts',
      host: 'broker.tinh.vn',
      port: 8883,
      portGiven: false,
      username: 'u',
      password: 'p@ss',
      display: 'mqtts://broker.tinh.vn:8883',
    })
    expect(parseBroker('mqtt://[::1]:1884')).toMatchObject({
      host: '::1',
      port: 1884,
      display: 'mqtt://[::1]:1884',
    })
    expect(() => parseBroker('http://x')).toThrow('not mqtt:// or mqtts://')
    expect(() => parseBroker('mqtt://')).toThrow()
    expect(dedupeBrokerUrls(['mqtt://a', 'mqtt://a:1883', ' mqtt://b ', 'mqtts://a'])).toEqual([
      'mqtt://a',
      'mqtt://b',
      'mqtts://a',
    ])
  })
})
