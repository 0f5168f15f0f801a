import fs from 'node:fs'
import type { DesiredStateBody } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { afterAll, expect, it } from 'vitest'
import {
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'

let t: TestPlane | null = null
afterAll(async () => {
  await t?.close()
})

it('active alerts survive a control-plane restart, and still expire on time', async () => {
  const first = await startTestPlane()
  await seedTree(first)
  const sha = (await uploadMedia(first, fs.readFileSync(makeAudio(first.dir, 's.wav', { seconds: 1 })))).body
    .sha256
  const r = await first.api<{ id: string }>('POST', '/api/alerts', {
    title: 'Lũ',
    mediaSha256s: [sha],
    targets: { units: ['xa-a'] },
    expiresInS: 8,
  })
  expect(r.status).toBe(201)
  await first.cp.close() // keeps the data directory
  t = await startTestPlane({ dataDir: first.dir })
  const plane = t
  const alertsOf = async (id: string) =>
    ((await plane.api<DesiredStateBody>('GET', `/api/clusters/${id}/desired-state`)).body.alerts ?? []).map(
      (a) => a.alertId,
    )
  expect(await alertsOf('c-a1')).toEqual([r.body.id])
  await waitFor(async () => (await alertsOf('c-a1')).length === 0, 25_000, 'expiry after restart')
  const v = await plane.api<{ alert: { state: string } }>('GET', `/api/alerts/${r.body.id}`)
  expect(v.body.alert.state).toBe('expired')
})
