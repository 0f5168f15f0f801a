import type { LiveSpec } from '@loa/shared'
import { describe, expect, it } from 'vitest'
import { clusterInput } from '../../test-kit/test-helpers.js'
import type { ClusterInput, Unit } from '../org/model.js'
import type { Relay } from '../relays/model.js'
import { contentHash, type DesiredInputs, desiredStateCompiler } from './state.js'

const cluster = clusterInput
const units: Unit[] = [
  { id: 'prov', parentId: null, name: 'P', kind: 'province', code: null, createdAt: '' },
  { id: 'xa', parentId: 'prov', name: 'X', kind: 'commune', code: null, createdAt: '' },
  { id: 'xb', parentId: 'prov', name: 'Y', kind: 'commune', code: null, createdAt: '' },
]
const base: DesiredInputs = {
  units,
  schedules: [],
  bulletins: [],
  playlists: [],
  media: [],
  fallbacks: [],
  timezone: 'Asia/Ho_Chi_Minh',
  now: '2026-11-27T10:00:00.000Z',
}
const live = (liveId: string, priority: number, startsAt: string, endsAt: string | null): LiveSpec => ({
  liveId,
  revision: 1,
  ackId: '3f0c1a9e-6d0b-4a53-9d2f-1f7e0d3b9a11',
  title: liveId,
  sourceUrl: 'http://radio.example.vn/a',
  priority,
  startsAt,
  endsAt,
})
const relay = (id: string, targets: Partial<Relay['targets']>): Relay => ({
  id,
  title: id,
  sourceUrl: 'rtsp://radio.example.vn/b',
  priority: 60,
  recurrence: { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-01-01' },
  durationS: 1800,
  volume: null,
  targets: { units: [], clusters: [], tags: [], ...targets },
  createdAt: '',
})

describe('desired-state compiler: live and recurring relays', () => {
  it('adds lives and relays only when there are some, so other states hash as before', () => {
    const c = cluster('c1', 'xb')
    const without = desiredStateCompiler(base)(c)
    const withOthers = desiredStateCompiler({
      ...base,
      lives: [{ spec: live('l-1', 60, '2026-11-27T09:00:00.000Z', null), clusterIds: ['other'] }],
      relays: [relay('r-1', { units: ['xa'] })],
    })(c)
    expect(withOthers).not.toHaveProperty('lives')
    expect(withOthers).not.toHaveProperty('relays')
    expect(contentHash(withOthers)).toBe(contentHash(without))
  })

  it('orders lives by band then start, drops ended ones, and keeps ones starting later', () => {
    const compile = desiredStateCompiler({
      ...base,
      lives: [
        { spec: live('l-low', 60, '2026-11-27T09:00:00.000Z', null), clusterIds: ['c1'] },
        {
          spec: live('l-ended', 95, '2026-11-27T08:00:00.000Z', '2026-11-27T09:59:59.000Z'),
          clusterIds: ['c1'],
        },
        {
          spec: live('l-high', 95, '2026-11-27T09:30:00.000Z', '2026-11-27T11:00:00.000Z'),
          clusterIds: ['c1'],
        },
        {
          spec: live('l-later', 60, '2026-11-27T12:00:00.000Z', '2026-11-27T13:00:00.000Z'),
          clusterIds: ['c1'],
        },
      ],
    })
    expect(compile(cluster('c1', 'xa')).lives?.map((l) => l.liveId)).toEqual(['l-high', 'l-low', 'l-later'])
  })

  it('targets relays like schedules: unit subtree, cluster id, tag', () => {
    const compile = desiredStateCompiler({
      ...base,
      relays: [
        relay('r-prov', { units: ['prov'] }),
        relay('r-xa', { units: ['xa'] }),
        relay('r-c2', { clusters: ['c2'] }),
        relay('r-coast', { tags: ['coast'] }),
      ],
    })
    const ids = (c: ClusterInput) => compile(c).relays?.map((r) => r.id) ?? []
    expect(ids(cluster('c1', 'xa'))).toEqual(['r-prov', 'r-xa'])
    expect(ids(cluster('c2', 'xb'))).toEqual(['r-prov', 'r-c2'])
    expect(ids(cluster('c3', 'xb', ['coast']))).toEqual(['r-prov', 'r-coast'])
    expect(compile(cluster('c1', 'xa')).relays?.[0]).toEqual({
      id: 'r-prov',
      title: 'r-prov',
      sourceUrl: 'rtsp://radio.example.vn/b',
      priority: 60,
      recurrence: { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-01-01' },
      durationS: 1800,
    })
  })
})
