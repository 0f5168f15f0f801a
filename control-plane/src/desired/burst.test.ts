import fs from 'node:fs'
import { decodeMessage, peekDesiredVersion } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  makeAudio,
  planeClient,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'

/** The burst, scaled down: hundreds of schedules created for one commune, then deleted, in seconds. */

const metric = async (t: TestPlane, name: string): Promise<number> => {
  const text = (await t.api<string>('GET', '/metrics')).body
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
}

describe('desired states under a burst of changes', () => {
  let t: TestPlane
  const sent = new Map<string, { version: number; entries: number }[]>()
  let total = 0

  beforeAll(async () => {
    // The production publication settings (edge-agent/src/config/config.ts): a device's next state waits for 1 s of quiet, 30 s at most.
    t = await startTestPlane()
    await seedTree(t)
    const sha = (await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'a.wav', { seconds: 1 })))).body.sha256
    expect(
      (await t.api('POST', '/api/bulletins', { id: 'b-1', title: 'Tin', level: 'normal', mediaSha256: sha }))
        .status,
    ).toBe(201)
    const sub = await planeClient(t, 'burst-sub')
    sub.on('message', (topic, payload) => {
      if (payload.length === 0) return
      // What an agent does with it: its own validator, and the peek that drops stale states unparsed.
      const msg = decodeMessage('desired', payload)
      expect(peekDesiredVersion(payload)).toBe(msg.body.version)
      const id = topic.split('/')[3] as string
      sent.set(id, [
        ...(sent.get(id) ?? []),
        { version: msg.body.version, entries: msg.body.schedule.length },
      ])
      total++
    })
    await sub.subscribeAsync('loa/v1/device/+/desired', { qos: 1 })
    await waitFor(() => sent.size === 3, 10_000, 'the retained states')
  }, 60_000)
  afterAll(async () => {
    await t?.close()
  })

  it('recomputes changes together and publishes each device a handful of states, the newest last', async () => {
    const n = 300
    const width = 30
    sent.clear()
    const recomputations = await metric(t, 'loa_desired_recomputations_total')
    let pendingPeak = 0
    const watch = setInterval(async () => {
      pendingPeak = Math.max(pendingPeak, await metric(t, 'loa_desired_publish_pending'))
    }, 20)
    const ids: string[] = []
    try {
      for (let i = 0; i < n; i += width) {
        const made = await Promise.all(
          Array.from({ length: width }, (_, k) =>
            t.api<{ id: string }>('POST', '/api/schedules', {
              bulletinId: 'b-1',
              title: `Lịch ${i + k}`,
              recurrence: {
                kind: 'weekly',
                daysOfWeek: [1, 2, 3],
                times: ['06:00'],
                startDate: '2026-01-01',
              },
              targets: { units: ['xa-a'] },
            }),
          ),
        )
        expect(made.map((r) => r.status)).toEqual(Array(width).fill(201))
        ids.push(...made.map((r) => r.body.id))
      }
      for (let i = 0; i < n; i += width) {
        const gone = await Promise.all(
          ids.slice(i, i + width).map((id) => t.api('DELETE', `/api/schedules/${id}`)),
        )
        expect(gone.map((r) => r.status)).toEqual(Array(width).fill(204))
      }
    } finally {
      clearInterval(watch)
    }
    // Quiet: nothing more published for 3 s.
    for (let last = -1; last !== total; ) {
      last = total
      await new Promise((r) => setTimeout(r, 3000))
    }
    const changes = 2 * n
    for (const id of ['c-a', 'c-a1']) {
      const versions = sent.get(id) ?? []
      const now = await t.api<{ version: number; schedule: unknown[] }>(
        'GET',
        `/api/clusters/${id}/desired-state`,
      )
      // A handful, not one per change; the last one sent is the newest, with every schedule gone again.
      expect(versions.length).toBeGreaterThanOrEqual(1)
      expect(versions.length).toBeLessThanOrEqual(6)
      expect(versions.at(-1)).toEqual({ version: now.body.version, entries: 0 })
    }
    // The other commune's cluster was never recomputed into a new version, nor sent anything.
    expect(sent.get('c-b')).toBeUndefined()
    expect((await metric(t, 'loa_desired_recomputations_total')) - recomputations).toBeLessThan(changes / 5)
    // The publish queue holds one entry per device at most.
    expect(pendingPeak).toBeLessThanOrEqual(2)
  }, 120_000)
})
