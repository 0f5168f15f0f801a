import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, serializeMessage } from './codec.js'
import { ProtocolError } from './errors.js'
import { recurrenceProblems } from './recurrence.js'
import { topicTree } from './topics.js'

const sha = 'a'.repeat(64)

function expectCode(fn: () => unknown, code: string): ProtocolError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as ProtocolError).code).toBe(code)
    return err as ProtocolError
  }
  throw new Error('expected a ProtocolError')
}

describe('topic tree', () => {
  const t = topicTree('loa')
  it('puts the protocol version in every topic and parses it back', () => {
    expect(t.device('c-001', 'desired')).toBe('loa/v1/device/c-001/desired')
    expect(t.unitCommands('xa-1')).toBe('loa/v1/unit/xa-1/cmd')
    expect(t.parse('loa/v1/device/c-001/play')).toEqual({
      kind: 'device',
      deviceId: 'c-001',
      channel: 'play',
    })
    expect(t.parse('loa/v2/device/c-001/play')).toBeNull()
    expect(t.parse('loa/v1/device/c-001/nope')).toBeNull()
    expect(t.parse('loa/v1/device/c-001/play/extra')).toBeNull()
  })
  it('refuses ids that would escape a topic level', () => {
    expect(() => t.device('a/b', 'cmd')).toThrow(/invalid device id/)
    expect(() => t.device('#', 'cmd')).toThrow()
    expect(() => t.device('../x', 'cmd')).toThrow()
    expect(() => topicTree('loa/#')).toThrow(/invalid topic root/)
  })
})

describe('codec', () => {
  it('round-trips a play report', () => {
    const msg = encodeMessage('play', 'c-001', {
      scheduleId: 's1',
      title: 'Bản tin',
      sha256: sha,
      level: 'normal',
      priority: 50,
      fallback: false,
      occurrence: '2026-11-27T01:00:00.000Z',
      status: 'played',
      relayOnAt: null,
      startedAt: null,
      endedAt: null,
      relayOffAt: null,
      durationMs: 0,
    })
    const back = decodeMessage('play', serializeMessage('play', msg))
    expect(back).toEqual(msg)
  })

  it('rejects malformed, oversized, wrong-version and wrong-type payloads with distinct codes', () => {
    expectCode(() => decodeMessage('cmd', Buffer.from('{not json')), 'LOA_MSG_NOT_JSON')
    expectCode(() => decodeMessage('cmd', Buffer.from([0xff, 0xfe, 0x7b])), 'LOA_MSG_NOT_JSON')
    expectCode(() => decodeMessage('cmd', '[1,2]'), 'LOA_MSG_NOT_JSON')
    expectCode(() => decodeMessage('cmd', Buffer.alloc(70 * 1024, 0x20)), 'LOA_MSG_TOO_LARGE')
    const ping = encodeMessage('cmd', 'control-plane', {
      commandId: 'cmd-12345678',
      kind: 'ping',
      deadline: '2026-11-27T01:00:00Z',
      recipients: { devices: ['pi-1'], units: [] },
    })
    expectCode(() => decodeMessage('cmd', JSON.stringify({ ...ping, v: 2 })), 'LOA_MSG_VERSION')
    expectCode(() => decodeMessage('ack', JSON.stringify(ping)), 'LOA_MSG_TYPE')
    const err = expectCode(
      () => decodeMessage('cmd', JSON.stringify({ ...ping, body: { ...ping.body, kind: 'self-destruct' } })),
      'LOA_MSG_INVALID',
    )
    expect(err.message).toMatch(/\/body\/kind/)
    expectCode(() => decodeMessage('cmd', JSON.stringify({ ...ping, extra: 1 })), 'LOA_MSG_INVALID')
    // A command must say whom it is for: one without recipients (as every command before them) is refused.
    const { recipients: _to, ...unaddressed } = ping.body
    const noTo = expectCode(
      () => decodeMessage('cmd', JSON.stringify({ ...ping, body: unaddressed })),
      'LOA_MSG_INVALID',
    )
    expect(noTo.message).toMatch(/\/body\/recipients/)
    const badTo = { ...ping, body: { ...ping.body, recipients: { devices: ['a/b'], units: [] } } }
    expectCode(() => decodeMessage('cmd', JSON.stringify(badTo)), 'LOA_MSG_INVALID')
  })

  it('refuses impossible times in a desired state', () => {
    const err = expectCode(
      () =>
        decodeMessage(
          'desired',
          JSON.stringify(
            encodeMessage('desired', 'control-plane', {
              deviceId: 'c-001',
              version: 1,
              generatedAt: '2026-11-27T00:00:00Z',
              timezone: 'Asia/Ho_Chi_Minh',
              units: [],
              volume: 80,
              media: [],
              fallback: null,
              schedule: [
                {
                  id: 's1',
                  title: 't',
                  level: 'normal',
                  priority: 50,
                  items: [sha],
                  recurrence: {
                    kind: 'weekly',
                    daysOfWeek: [1],
                    times: ['25:61'],
                    startDate: '2026-01-01',
                  },
                },
              ],
            }),
          ),
        ),
      'LOA_MSG_INVALID',
    )
    expect(err.message).toMatch(/schedule\/0\/recurrence/)
  })
})

describe('recurrence semantics', () => {
  it('names unreal dates and inverted ranges', () => {
    expect(
      recurrenceProblems({ kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-02-30' }),
    ).toEqual(['recurrence.startDate: 2026-02-30 is not a real date'])
    expect(
      recurrenceProblems({
        kind: 'interval',
        daysOfWeek: [1],
        everyMinutes: 5,
        from: '10:00',
        until: '09:00',
        startDate: '2026-01-01',
        endDate: '2025-01-01',
      }),
    ).toHaveLength(2)
    expect(recurrenceProblems({ kind: 'once', at: '2026-11-27T01:00:00Z' })).toEqual([])
  })
})

describe('live relay sources', () => {
  const start = (sourceUrl: string) =>
    JSON.stringify(
      encodeMessage('cmd', 'control-plane', {
        commandId: 'cmd-12345678',
        kind: 'live-start',
        deadline: '2026-11-27T01:00:00Z',
        recipients: { devices: [], units: ['xa-1'] },
        live: {
          liveId: 'vov1',
          revision: 1,
          ackId: 'ack-12345678',
          title: 'VOV1',
          sourceUrl,
          priority: 60,
          startsAt: '2026-11-27T01:00:00Z',
          endsAt: null,
        },
      }),
    )
  it('accepts network stream protocols ffmpeg reads', () => {
    for (const url of [
      'http://127.0.0.1:8000/vov1',
      'https://a.example/live.m3u8',
      'rtsp://cam/s',
      'srt://1.2.3.4:9000',
    ]) {
      expect(decodeMessage('cmd', start(url)).body.kind).toBe('live-start')
    }
  })
  it('refuses local files and ffmpeg pseudo-protocols, naming the field', () => {
    for (const url of [
      'file:///etc/shadow',
      '/var/lib/loa/agent.db',
      'concat:a|b',
      'subfile,,start,0,end,0,,:/etc/x',
    ]) {
      const err = expectCode(() => decodeMessage('cmd', start(url)), 'LOA_MSG_INVALID')
      expect(err.message).toMatch(/\/body\/live\/sourceUrl/)
    }
  })
})
