import type { DesiredStateBody } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { afterAll, expect, it } from 'vitest'
import { simDevice } from '../../test-kit/alerts.js'
import { seedTree, startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

let t: TestPlane | null = null
afterAll(async () => {
  await t?.close()
})

it('live relays survive a control-plane restart: still in desired states, acks still count, still end on time', async () => {
  const first = await startTestPlane()
  await seedTree(first)
  const r = await first.api<{ id: string; ackId: string }>('POST', '/api/lives', {
    title: 'Tiếp sóng VOV1',
    sourceUrl: 'rtsp://radio.example.vn/vov1',
    targets: { units: ['xa-a'] },
    durationS: 10,
  })
  expect(r.status).toBe(201)
  await first.cp.close() // keeps the data directory
  t = await startTestPlane({ dataDir: first.dir })
  const plane = t
  const livesOf = async (id: string) =>
    ((await plane.api<DesiredStateBody>('GET', `/api/clusters/${id}/desired-state`)).body.lives ?? []).map(
      (l) => l.liveId,
    )
  expect(await livesOf('c-a1')).toEqual([r.body.id])
  const device = await simDevice(plane, 'c-a1')
  try {
    await device.ack(r.body.ackId, 'playing')
    const view = () => plane.api<{ counts: { playing: number } }>('GET', `/api/lives/${r.body.id}`)
    await waitFor(async () => (await view()).body.counts.playing === 1, 10_000, 'ack after restart')
  } finally {
    await device.close()
  }
  await waitFor(async () => (await livesOf('c-a1')).length === 0, 25_000, 'end after restart')
  const v = await plane.api<{ live: { state: string } }>('GET', `/api/lives/${r.body.id}`)
  expect(v.body.live.state).toBe('ended')
})
