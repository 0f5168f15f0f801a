import { describe, expect, it } from 'vitest'
import { encodeMessage, serializeMessage } from './codec.js'
import { PEEK_BYTES, peekDesiredVersion } from './desired-peek.js'
import type { DesiredStateBody } from './messages/index.js'

const sha = 'a'.repeat(64)
const body = (version: number, entries = 3): DesiredStateBody => ({
  version,
  generatedAt: '2026-01-01T00:00:00Z',
  deviceId: 'pi-1',
  timezone: 'Asia/Ho_Chi_Minh',
  units: ['tinh', 'xa-1'],
  volume: 80,
  media: [{ sha256: sha, size: 10, url: `/media/${sha}`, mime: 'audio/ogg', durationMs: 1000 }],
  schedule: Array.from({ length: entries }, (_, i) => ({
    id: `s-${i}`,
    title: `Bản tin "số" ${i}`,
    level: 'normal' as const,
    priority: 50,
    items: [sha],
    recurrence: { kind: 'once' as const, at: '2026-01-02T00:00:00Z' },
  })),
  fallback: null,
})
const peek = (text: string) => peekDesiredVersion(Buffer.from(text))

describe('peeking at a desired state version', () => {
  it('reads it from the first bytes of what the control plane publishes, whatever the state size', () => {
    const small = serializeMessage('desired', encodeMessage('desired', 'control-plane', body(7, 1)))
    const large = serializeMessage('desired', encodeMessage('desired', 'control-plane', body(123456, 3000)))
    expect(large.length).toBeGreaterThan(100 * PEEK_BYTES)
    expect(peekDesiredVersion(small)).toBe(7)
    expect(peekDesiredVersion(large)).toBe(123456)
    // Signed: `sig` follows the body and is never reached.
    const signed = {
      ...encodeMessage('desired', 'control-plane', body(9)),
      sig: { alg: 'ed25519', keyId: 'k', value: 'x' },
    }
    expect(peekDesiredVersion(Buffer.from(JSON.stringify(signed)))).toBe(9)
  })

  it('reads past scalars before it, escapes included', () => {
    expect(
      peek('{"v":1,"type":"desired-state","from":"a\\"b\\\\","body":{"deviceId":"d","version":42}}'),
    ).toBe(42)
    expect(peek(' { "body" : { "version" : 3 , "x": [1] } } ')).toBe(3)
    expect(peek('{"n":-1.5e3,"t":true,"f":false,"z":null,"body":{"version":0}}')).toBe(0)
  })

  it('gives up (null) rather than guess', () => {
    // `version` after a nested value, or past the window.
    expect(peek('{"body":{"units":["a"],"version":3}}')).toBeNull()
    expect(peek('{"x":{"version":1},"body":{"version":3}}')).toBeNull()
    expect(peek(`{"from":"${'x'.repeat(PEEK_BYTES)}","body":{"version":3}}`)).toBeNull()
    // Not a plain non-negative integer.
    for (const v of ['1.5', '1e3', '-1', '"7"', 'null', '99999999999999999']) {
      expect(peek(`{"body":{"version":${v}}}`)).toBeNull()
    }
    // Not JSON, truncated, escaped key, no body.
    for (const text of ['not json', '{"body":{"vers', '{"bo\\u0064y":{"version":1}}', '{"v":1}', '[]', '']) {
      expect(peek(text)).toBeNull()
    }
  })
})
