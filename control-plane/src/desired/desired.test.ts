import fs from 'node:fs'
import { type DesiredStateBody, decodeMessage, encodeMessage, serializeMessage } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  deviceClient,
  makeAudio,
  planeClient,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'

let t: TestPlane
let sha1: string
let sha2: string
/** A `once` instant a week ahead of the real clock, on a whole second. */
function inAWeek(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + 7 * 86_400_000).toISOString().replace('.000Z', 'Z')
}

const weekly = { kind: 'weekly', daysOfWeek: [1, 3, 5], times: ['06:00', '17:30'], startDate: '2026-01-01' }

const desired = async (id: string) =>
  (await t.api<DesiredStateBody>('GET', `/api/clusters/${id}/desired-state`)).body
const scheduleIds = async (id: string) => (await desired(id)).schedule.map((s) => s.id).sort()

async function schedule(body: Record<string, unknown>) {
  return t.api<{ id: string; code: string; message: string; priority: number }>(
    'POST',
    '/api/schedules',
    body,
  )
}

beforeAll(async () => {
  t = await startTestPlane()
  await seedTree(t)
  sha1 = (await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'a.wav', { seconds: 1 })))).body
    .sha256 as string
  sha2 = (await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'b.wav', { seconds: 1, freq: 880 })))).body
    .sha256 as string
  expect(
    (
      await t.api('POST', '/api/bulletins', {
        id: 'b-normal',
        title: 'Tin sáng',
        level: 'normal',
        mediaSha256: sha1,
      })
    ).status,
  ).toBe(201)
  expect(
    (
      await t.api('POST', '/api/bulletins', {
        id: 'b-emerg',
        title: 'Bão',
        level: 'emergency',
        mediaSha256: sha2,
      })
    ).status,
  ).toBe(201)
})
afterAll(async () => {
  await t?.close()
})

describe('schedule validation', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['25:00', { recurrence: { ...weekly, times: ['25:00'] } }, /recurrence\.times\[0\]/],
    ['2026-02-30', { recurrence: { ...weekly, startDate: '2026-02-30' } }, /recurrence\.startDate/],
    ['end before start', { recurrence: { ...weekly, endDate: '2025-12-31' } }, /recurrence\.endDate/],
    [
      'window inverted',
      {
        recurrence: {
          kind: 'interval',
          daysOfWeek: [1],
          everyMinutes: 30,
          from: '18:00',
          until: '06:00',
          startDate: '2026-01-01',
        },
      },
      /recurrence\.until/,
    ],
    ['bad once instant', { recurrence: { kind: 'once', at: 'tomorrow' } }, /recurrence\.at/],
    ['unknown kind', { recurrence: { kind: 'monthly' } }, /recurrence\.kind/],
    ['empty targets', { targets: {} }, /targets/],
    ['unknown bulletin', { bulletinId: 'b-ghost' }, /bulletinId/],
    ['unknown unit', { targets: { units: ['ghost'] } }, /targets\.units\[0\]/],
    ['unknown cluster', { targets: { clusters: ['c-a', 'ghost'] } }, /targets\.clusters\[1\]/],
    ['priority out of band', { priority: 256 }, /priority/],
  ]
  for (const [name, patch, field] of cases) {
    it(`refuses ${name} naming the field`, async () => {
      const r = await schedule({
        bulletinId: 'b-normal',
        recurrence: weekly,
        targets: { units: ['xa-a'] },
        ...patch,
      })
      expect(r.status).toBe(400)
      expect(r.body.code).toBe('LOA_SCHEDULE_INVALID')
      expect(r.body.message).toMatch(field)
    })
  }
})

describe('desired state targeting', () => {
  it('a unit schedule reaches every cluster in its subtree and none outside', async () => {
    const r = await schedule({
      id: 's-unit',
      bulletinId: 'b-normal',
      recurrence: weekly,
      targets: { units: ['xa-a'] },
    })
    expect(r.status).toBe(201)
    expect(r.body.priority).toBe(50)
    expect(await scheduleIds('c-a')).toEqual(['s-unit'])
    expect(await scheduleIds('c-a1')).toEqual(['s-unit'])
    expect(await scheduleIds('c-b')).toEqual([])
    const d = await desired('c-a1')
    expect(d.units).toEqual(['prov', 'xa-a', 'thon-a1'])
    expect(d.schedule[0]).toMatchObject({ items: [sha1], level: 'normal', priority: 50, recurrence: weekly })
    expect(d.media).toEqual([
      expect.objectContaining({ sha256: sha1, url: `/media/${sha1}`, mime: 'audio/ogg' }),
    ])
    expect(d).toMatchObject({ deviceId: 'c-a1', timezone: 'Asia/Ho_Chi_Minh', volume: 80, fallback: null })
  })

  it('tag and single-cluster targets reach only their clusters; emergency gets its band', async () => {
    const tag = await schedule({
      id: 's-tag',
      bulletinId: 'b-emerg',
      recurrence: weekly,
      targets: { tags: ['coast'] },
    })
    expect(tag.status).toBe(201)
    expect(tag.body.priority).toBe(200)
    const one = await schedule({
      id: 's-one',
      bulletinId: 'b-normal',
      // A week from now (the clock, not a fixed date: a past `once` is rightly left out of the state).
      recurrence: { kind: 'once', at: inAWeek() },
      targets: { clusters: ['c-a1'] },
      priority: 120,
      volume: 60,
    })
    expect(one.status).toBe(201)
    expect(await scheduleIds('c-b')).toEqual(['s-tag'])
    expect(await scheduleIds('c-a')).toEqual(['s-unit'])
    expect(await scheduleIds('c-a1')).toEqual(['s-one', 's-unit'])
    const b = await desired('c-b')
    expect(b.schedule[0]).toMatchObject({ level: 'emergency', priority: 200, items: [sha2] })
    const a1 = (await desired('c-a1')).schedule.find((s) => s.id === 's-one')
    expect(a1).toMatchObject({ priority: 120, volume: 60 })
  })

  it('plays a playlist in order and applies the nearest fallback', async () => {
    const p = await t.api<{ id: string }>('POST', '/api/playlists', {
      title: 'Chương trình',
      bulletinIds: ['b-emerg', 'b-normal'],
    })
    expect(p.status).toBe(201)
    expect(
      (
        await schedule({
          id: 's-pl',
          playlistId: p.body.id,
          recurrence: weekly,
          targets: { units: ['thon-a1'] },
        })
      ).status,
    ).toBe(201)
    const win = [{ daysOfWeek: [1, 2, 3, 4, 5], from: '05:00', until: '21:00' }]
    expect(
      (await t.api('PUT', '/api/units/prov/fallback', { bulletinIds: ['b-normal'], windows: win })).status,
    ).toBe(200)
    expect(
      (await t.api('PUT', '/api/units/xa-a/fallback', { bulletinIds: ['b-emerg'], windows: win, volume: 40 }))
        .status,
    ).toBe(200)
    const bad = await t.api<{ message: string }>('PUT', '/api/units/xa-b/fallback', {
      bulletinIds: ['b-normal'],
      windows: [{ daysOfWeek: [1], from: '10:00', until: '09:00' }],
    })
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/windows\[0\]\.until/)

    const a1 = await desired('c-a1')
    expect(a1.schedule.find((s) => s.id === 's-pl')?.items).toEqual([sha2, sha1])
    expect(a1.fallback).toEqual({ items: [sha2], windows: win, volume: 40 })
    const b = await desired('c-b')
    expect(b.fallback).toEqual({ items: [sha1], windows: win })
    // Fallback media is in the manifest even when no schedule uses it.
    expect(b.media.map((m) => m.sha256).sort()).toEqual([sha1, sha2].sort())
    expect((await t.api('DELETE', '/api/units/xa-a/fallback')).status).toBe(204)
    expect((await desired('c-a')).fallback?.items).toEqual([sha1])
  })

  it('bumps the version only when the content changes', async () => {
    const v0 = (await desired('c-b')).version
    expect((await t.api('PATCH', '/api/clusters/c-b', { name: 'Renamed' })).status).toBe(200)
    expect((await desired('c-b')).version).toBe(v0)
    expect(
      (await schedule({ bulletinId: 'b-normal', recurrence: weekly, targets: { units: ['xa-a'] } })).status,
    ).toBe(201)
    expect((await desired('c-b')).version).toBe(v0)
    const patched = await t.api<{ desiredVersion: number }>('PATCH', '/api/clusters/c-b', { volume: 70 })
    expect(patched.status).toBe(200)
    // The write's response already shows the new version: clients can wait on appliedVersion === desiredVersion.
    expect(patched.body.desiredVersion).toBe(v0 + 1)
    const d = await desired('c-b')
    expect(d.version).toBe(v0 + 1)
    expect(d.volume).toBe(70)
    const list = await t.api<{ clusters: { id: string; desiredVersion: number }[] }>('GET', '/api/clusters')
    expect(list.body.clusters.find((c) => c.id === 'c-b')?.desiredVersion).toBe(v0 + 1)
    expect((await t.api('DELETE', '/api/schedules/s-tag')).status).toBe(204)
    expect((await t.api<{ desiredVersion: number }>('GET', '/api/clusters/c-b')).body.desiredVersion).toBe(
      v0 + 2,
    )
    const after = await desired('c-b')
    expect(after.version).toBe(v0 + 2)
    expect(after.schedule).toEqual([])
    expect((await t.api('DELETE', '/api/schedules/s-tag')).status).toBe(404)
  })
})

describe('desired state over MQTT', () => {
  it('publishes to the device topic and re-publishes when the device comes online', async () => {
    const sub = await planeClient(t, 'test-sub-c-a')
    const got: { version: number; retain: boolean }[] = []
    sub.on('message', (_topic, payload, packet) => {
      const msg = decodeMessage('desired', payload)
      got.push({ version: msg.body.version, retain: packet.retain })
    })
    await sub.subscribeAsync('loa/v1/device/c-a/desired', { qos: 1 })
    // Retained copy on subscribe: the current version.
    const current = (await desired('c-a')).version
    await waitFor(() => got.find((g) => g.version === current), 10_000, 'retained desired state')

    // A change is pushed live.
    expect((await t.api('PATCH', '/api/clusters/c-a', { volume: 33 })).status).toBe(200)
    await waitFor(() => got.find((g) => g.version === current + 1 && !g.retain), 10_000, 'live desired state')

    // The device comes online: it is sent its state again, from the database.
    const before = got.length
    const device = await deviceClient(t, 'c-a')
    const presence = encodeMessage('presence', 'c-a', { online: true })
    await device.publishAsync('loa/v1/device/c-a/presence', serializeMessage('presence', presence), {
      qos: 1,
    })
    await waitFor(() => got.length > before, 10_000, 're-published desired state')
    expect(got.at(-1)?.version).toBe(current + 1)
    await waitFor(
      async () => (await t.api<{ online: boolean }>('GET', '/api/clusters/c-a')).body.online,
      10_000,
      'online',
    )
    await device.endAsync()
    await sub.endAsync()
  })

  it('re-publishes when the device reports it is behind', async () => {
    const sub = await planeClient(t, 'test-sub-c-b')
    const versions: number[] = []
    sub.on('message', (_topic, payload) => versions.push(decodeMessage('desired', payload).body.version))
    await sub.subscribeAsync('loa/v1/device/c-b/desired', { qos: 1 })
    const current = (await desired('c-b')).version
    await waitFor(() => versions.length >= 1, 10_000, 'retained copy')
    const before = versions.length
    const device = await deviceClient(t, 'c-b')
    const reported = encodeMessage('reported', 'c-b', {
      desiredVersion: null,
      receivedVersion: current - 1,
      appliedAt: null,
      agentVersion: '0.1.0',
      media: [],
      cacheBytes: 0,
      cacheBudgetBytes: 0,
      diskFreeBytes: 0,
    })
    await device.publishAsync('loa/v1/device/c-b/reported', serializeMessage('reported', reported), {
      qos: 1,
    })
    await waitFor(() => versions.length > before, 10_000, 're-published after a behind report')
    expect(versions.at(-1)).toBe(current)
    const c = await t.api<{ receivedVersion: number; appliedVersion: number | null }>(
      'GET',
      '/api/clusters/c-b',
    )
    expect(c.body).toMatchObject({ receivedVersion: current - 1, appliedVersion: null })
    await device.endAsync()
    await sub.endAsync()
  })
})
