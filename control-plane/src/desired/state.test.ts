import { describe, expect, it } from 'vitest'
import { clusterInput } from '../../test-kit/test-helpers.js'
import { parseRange } from '../media/routes.js'
import type { Unit } from '../org/model.js'
import type { Schedule } from '../schedules/model.js'
import { canonicalJson, contentHash, desiredStateCompiler } from './state.js'

const sha = (c: string) => c.repeat(64)
const cluster = clusterInput
const weekly = { kind: 'weekly' as const, daysOfWeek: [1], times: ['06:00'], startDate: '2026-01-01' }
const schedule = (id: string, targets: Partial<Schedule['targets']>): Schedule => ({
  id,
  title: '',
  bulletinId: 'b1',
  playlistId: null,
  recurrence: weekly,
  targets: { units: [], clusters: [], tags: [], ...targets },
  priority: 50,
  volume: null,
  enabled: true,
  createdAt: '2026-01-01T00:00:00.000Z',
})

describe('desired-state compiler', () => {
  it('hashes content independently of key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}')
    const base = {
      deviceId: 'c',
      timezone: 'Asia/Ho_Chi_Minh',
      units: [],
      volume: 80,
      media: [],
      schedule: [],
      fallback: null,
    }
    const reordered = {
      fallback: null,
      schedule: [],
      media: [],
      volume: 80,
      units: [],
      timezone: 'Asia/Ho_Chi_Minh',
      deviceId: 'c',
    }
    expect(contentHash(base)).toBe(contentHash(reordered))
    expect(contentHash(base)).not.toBe(contentHash({ ...base, volume: 81 }))
  })

  it('compiles 10,000 clusters from one snapshot, resolving unit subtrees and tags', () => {
    const units: Unit[] = [
      { id: 'prov', parentId: null, name: 'p', kind: 'province', code: null, createdAt: '' },
    ]
    for (let i = 0; i < 100; i++) {
      units.push({ id: `xa-${i}`, parentId: 'prov', name: 'x', kind: 'commune', code: null, createdAt: '' })
      units.push({
        id: `thon-${i}`,
        parentId: `xa-${i}`,
        name: 't',
        kind: 'village',
        code: null,
        createdAt: '',
      })
    }
    const compile = desiredStateCompiler({
      units,
      schedules: [
        schedule('s-xa-7', { units: ['xa-7'] }),
        schedule('s-coast', { tags: ['coast'] }),
        schedule('s-one', { clusters: ['c-42'] }),
      ],
      bulletins: [{ id: 'b1', title: 'B', level: 'priority', mediaSha256: sha('a'), createdAt: '' }],
      playlists: [],
      media: [
        {
          sha256: sha('a'),
          size: 10,
          durationMs: 1000,
          mime: 'audio/ogg',
          codec: 'opus',
          bitrateKbps: 32,
          loudness: { inputI: -20, inputTp: -3, inputLra: 1, targetI: -16 },
          originalName: 'a',
          createdAt: '',
        },
      ],
      fallbacks: [],
      timezone: 'Asia/Ho_Chi_Minh',
    })
    const counts = new Map<string, number>()
    for (let i = 0; i < 10_000; i++) {
      const c = cluster(`c-${i}`, i % 2 ? `xa-${i % 100}` : `thon-${i % 100}`, i % 10 === 0 ? ['coast'] : [])
      const d = compile(c)
      for (const e of d.schedule) counts.set(e.id, (counts.get(e.id) ?? 0) + 1)
      if (i === 7) expect(d.units).toEqual(['prov', 'xa-7'])
      if (i === 8) expect(d.units).toEqual(['prov', 'xa-8', 'thon-8'])
    }
    // Clusters i ≡ 7 (mod 100) are in xa-7 or below it: 100 of them.
    expect(counts.get('s-xa-7')).toBe(100)
    expect(counts.get('s-coast')).toBe(1000)
    expect(counts.get('s-one')).toBe(1)
  })
})

describe('byte ranges', () => {
  it('parses single ranges and refuses unsatisfiable ones', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 })
    expect(parseRange('bytes=50-1000', 100)).toEqual({ start: 50, end: 99 })
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable')
    expect(parseRange('bytes=9-3', 100)).toBe('unsatisfiable')
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable')
    expect(parseRange('items=0-1', 100)).toBe('unsatisfiable')
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull()
  })
})
