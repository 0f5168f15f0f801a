import fs from 'node:fs'
import { DESIRED_LIMITS, type DesiredStateBody, decodeMessage } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  makeAudio,
  planeClient,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'
import { ConfigError, loadConfigFromEnv } from '../config.js'

/**
 * Every limit of the agents' desired-state schema is enforced where the control plane builds states: an
 * operator's change that would break one is refused (and undone), anything else leaves the cluster on its last
 * valid state and says so; nothing the agents would refuse is ever stored or published.
 */

const weekly = (i: number) => ({
  kind: 'weekly',
  daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
  times: [`${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`],
  startDate: '2026-01-01',
})

interface Problem {
  limit: string
  detail: string
  keptVersion: number | null
}

async function seed(t: TestPlane): Promise<string> {
  const rows = [
    { line: 1, code: 'P', parentCode: '', name: 'Tỉnh', kind: 'province' },
    { line: 2, code: 'X1', parentCode: 'P', name: 'Xã Một', kind: 'commune' },
    { line: 3, code: 'X2', parentCode: 'P', name: 'Xã Hai', kind: 'commune' },
    { line: 4, code: 'V', parentCode: 'X2', name: 'Thôn', kind: 'village' },
  ]
  const imported = await t.api('POST', '/api/units/import', { rows })
  expect(imported.status).toBe(200)
  for (const c of [
    { id: 'c-x1', name: 'Cụm X1', unitId: 'X1' },
    { id: 'c-v', name: 'Cụm thôn', unitId: 'V' },
  ]) {
    expect((await t.api('POST', '/api/clusters', c)).status).toBe(201)
  }
  const sha = (await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'a.wav', { seconds: 1 })))).body
    .sha256 as string
  const b = await t.api<{ id: string }>('POST', '/api/bulletins', {
    id: 'b-1',
    title: 'Tin',
    level: 'normal',
    mediaSha256: sha,
  })
  expect(b.status).toBe(201)
  return sha
}

/** Runs `n` calls, `width` at a time. */
async function inBatches<T>(n: number, width: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < n; i += width) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => call(i + k)))))
  }
  return out
}

describe('desired-state limits where states are built', () => {
  let t: TestPlane
  let sha: string
  const published = new Map<string, { version: number; entries: number }[]>()
  const state = async (id: string) =>
    (await t.api<DesiredStateBody>('GET', `/api/clusters/${id}/desired-state`)).body
  const schedule = (i: number, unit: string) =>
    t.api<{ code: string; message: string; id: string }>('POST', '/api/schedules', {
      bulletinId: 'b-1',
      title: `Lịch ${i}`,
      recurrence: weekly(i),
      targets: { units: [unit] },
    })

  beforeAll(async () => {
    t = await startTestPlane()
    sha = await seed(t)
    const sub = await planeClient(t, 'limits-sub')
    sub.on('message', (topic, payload) => {
      if (payload.length === 0) return
      // Every published state passes the agents' own validator (it throws otherwise, failing the test below).
      const msg = decodeMessage('desired', payload)
      const id = topic.split('/')[3] as string
      published.set(id, [
        ...(published.get(id) ?? []),
        { version: msg.body.version, entries: msg.body.schedule.length },
      ])
    })
    await sub.subscribeAsync('loa/v1/device/+/desired', { qos: 1 })
  }, 60_000)
  afterAll(async () => {
    await t?.close()
  })

  it(`refuses the schedule that would give a cluster more than ${DESIRED_LIMITS.schedule} entries`, async () => {
    const ok = await inBatches(DESIRED_LIMITS.schedule, 50, (i) => schedule(i, 'X1'))
    expect(ok.filter((r) => r.status !== 201)).toEqual([])
    const full = await state('c-x1')
    expect(full.schedule).toHaveLength(DESIRED_LIMITS.schedule)

    const one = await schedule(99_999, 'X1')
    expect(one.status).toBe(422)
    expect(one.body.code).toBe('LOA_DESIRED_LIMIT')
    expect(one.body.message).toContain(`schedule: cluster "c-x1" (unit "X1")`)
    expect(one.body.message).toContain(`${DESIRED_LIMITS.schedule + 1} schedule entries`)
    // Several at once: every one refused, none left behind.
    const many = await Promise.all(Array.from({ length: 8 }, (_, k) => schedule(100_000 + k, 'P')))
    expect(many.map((r) => r.body.code)).toEqual(Array(8).fill('LOA_DESIRED_LIMIT'))
    const all = await t.api<{ schedules: unknown[] }>('GET', '/api/schedules')
    expect(all.body.schedules).toHaveLength(DESIRED_LIMITS.schedule)
    expect((await state('c-x1')).version).toBe(full.version)
    // The other commune was not touched, and the refused changes cost no cluster a publish.
    await t.cp.app.inject({ method: 'GET', url: '/healthz' })
    await waitFor(() => published.get('c-x1')?.some((p) => p.version === full.version), 30_000, 'published')
    expect(Math.max(...(published.get('c-x1') ?? []).map((p) => p.entries))).toBe(DESIRED_LIMITS.schedule)
    // With one deleted, one fits again.
    const some = (await t.api<{ schedules: { id: string }[] }>('GET', '/api/schedules')).body.schedules[0]
    expect((await t.api('DELETE', `/api/schedules/${some?.id}`)).status).toBe(204)
    expect((await schedule(200_000, 'X1')).status).toBe(201)
  }, 240_000)

  it('leaves a cluster on its last valid state when a tree move would break a limit, and says so', async () => {
    expect((await schedule(1, 'V')).status).toBe(201)
    const before = await state('c-v')
    expect(before.schedule).toHaveLength(1)
    // Moving the village under X1 (which already gives its clusters the maximum) is not an operator's change of
    // a state: the move stands, the cluster keeps its last valid version, and the problem is visible.
    const move = (parent: string) =>
      t.api('POST', '/api/units/import', {
        rows: [{ line: 1, code: 'V', parentCode: parent, name: 'Thôn', kind: 'village' }],
      })
    expect((await move('X1')).status).toBe(200)
    const c = await t.api<{ desiredProblem: Problem | null; desiredVersion: number }>(
      'GET',
      '/api/clusters/c-v',
    )
    expect(c.body.desiredProblem).toMatchObject({ limit: 'schedule', keptVersion: before.version })
    expect(c.body.desiredVersion).toBe(before.version)
    expect((await state('c-v')).version).toBe(before.version)
    const events = await waitFor(
      async () => {
        const r = await t.api<{ events: { kind: string; severity: string; message: string }[] }>(
          'GET',
          '/api/events?clusterId=c-v&kind=desired-refused',
        )
        return r.body.events.length > 0 ? r.body.events : null
      },
      10_000,
      'desired-refused event',
    )
    expect(events[0]).toMatchObject({ severity: 'error' })
    expect(events[0]?.message).toContain(`v${before.version} kept`)
    const metrics = await t.api<string>('GET', '/metrics')
    expect(metrics.body).toMatch(/loa_desired_refused_clusters 1/)
    // Moved back: valid again, said so too.
    expect((await move('X2')).status).toBe(200)
    expect(
      (await t.api<{ desiredProblem: Problem | null }>('GET', '/api/clusters/c-v')).body.desiredProblem,
    ).toBeNull()
    await waitFor(
      async () => {
        const r = await t.api<{ events: unknown[] }>('GET', '/api/events?clusterId=c-v&kind=desired-valid')
        return r.body.events.length > 0
      },
      10_000,
      'desired-valid event',
    )
    expect(published.get('c-v')?.every((p) => p.entries <= DESIRED_LIMITS.schedule)).toBe(true)
  }, 60_000)

  it(`never lets the workflow build a programme of more than ${DESIRED_LIMITS.itemsPerEntry} items`, async () => {
    const at = new Date(Date.now() + 3 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z')
    const send = async (i: number) => {
      const b = await t.api<{ id: string }>('POST', '/api/bulletins', {
        id: `b-pri-${i}`,
        title: `Ưu tiên ${i}`,
        level: 'priority',
        mediaSha256: sha,
        unitId: 'P',
      })
      expect(b.status).toBe(201)
      return t.api<{ deliveries: { id: string; state: string; reason: string | null }[] }>(
        'POST',
        `/api/bulletins/${b.body.id}/send`,
        { toUnitIds: ['X2'], at },
      )
    }
    for (let i = 0; i < DESIRED_LIMITS.itemsPerEntry; i++) {
      const r = await send(i)
      expect(r.body.deliveries[0]?.state).toBe('accepted')
    }
    // One more for the same slot: not appended; it waits in the commune's inbox, saying why.
    const over = await send(DESIRED_LIMITS.itemsPerEntry)
    expect(over.status).toBe(201)
    const d = over.body.deliveries[0]
    expect(d).toMatchObject({ state: 'pending' })
    expect(d?.reason).toContain(`the limit is ${DESIRED_LIMITS.itemsPerEntry}`)
    const entry = (await state('c-v')).schedule.find(
      (e) => e.recurrence.kind === 'once' && Date.parse(e.recurrence.at) === Date.parse(at),
    )
    expect(entry?.items).toHaveLength(DESIRED_LIMITS.itemsPerEntry)
    // Accepting it into that slot is refused with the same reason; into another slot it is taken.
    const same = await t.api<{ code: string }>('POST', `/api/inbox/${d?.id}/accept`, { at })
    expect(same.status).toBe(422)
    expect(same.body.code).toBe('LOA_DESIRED_LIMIT')
    const later = new Date(Date.parse(at) + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z')
    expect((await t.api('POST', `/api/inbox/${d?.id}/accept`, { at: later })).status).toBe(200)
  }, 120_000)
})

describe('the byte limit of a desired state', () => {
  it('is configurable only below what the agents accept', () => {
    expect(loadConfigFromEnv({})).toMatchObject({
      desiredMaxBytes: DESIRED_LIMITS.maxBytes,
      desiredPublishQuietMs: 1000,
      desiredPublishMaxDelayMs: 30_000,
    })
    expect(loadConfigFromEnv({ LOA_DESIRED_MAX_BYTES: '524288' }).desiredMaxBytes).toBe(524_288)
    for (const [name, value] of [
      ['LOA_DESIRED_MAX_BYTES', String(DESIRED_LIMITS.maxBytes + 1)],
      ['LOA_DESIRED_MAX_BYTES', '1000'],
      ['LOA_DESIRED_PUBLISH_QUIET_MS', '-1'],
      ['LOA_DESIRED_PUBLISH_MAX_DELAY_MS', 'soon'],
    ] as const) {
      expect(() => loadConfigFromEnv({ [name]: value })).toThrow(ConfigError)
      expect(() => loadConfigFromEnv({ [name]: value })).toThrow(new RegExp(name))
    }
  })

  it('refuses the change that would make a state larger than the configured size, naming it', async () => {
    const t = await startTestPlane({ desiredMaxBytes: 64 * 1024 })
    try {
      await seed(t)
      let refused: { code: string; message: string } | null = null
      let made = 0
      for (let i = 0; i < 1000 && !refused; i++) {
        const r = await t.api<{ code: string; message: string }>('POST', '/api/schedules', {
          bulletinId: 'b-1',
          title: `${'Bản tin thông tin cơ sở '.repeat(8)}${i}`.slice(-200),
          recurrence: weekly(i),
          targets: { units: ['X1'] },
        })
        if (r.status === 201) made++
        else refused = r.body
      }
      expect(refused?.code).toBe('LOA_DESIRED_LIMIT')
      expect(refused?.message).toMatch(/^body: cluster "c-x1" \(unit "X1"\) would get \d+ bytes/)
      expect(refused?.message).toContain(`the limit is ${64 * 1024 - DESIRED_LIMITS.envelopeReserveBytes}`)
      const s = (await t.api<DesiredStateBody>('GET', '/api/clusters/c-x1/desired-state')).body
      expect(s.schedule).toHaveLength(made)
      expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThanOrEqual(
        64 * 1024 - DESIRED_LIMITS.envelopeReserveBytes,
      )
    } finally {
      await t.close()
    }
  }, 120_000)
})
