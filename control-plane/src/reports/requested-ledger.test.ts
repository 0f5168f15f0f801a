import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { DateTime } from 'luxon'
import { afterEach, describe, expect, it } from 'vitest'
import {
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'

// The requested-minutes ledger with a real control plane and its SQLite file: what a schedule asked for stays in the
// reports after the schedule is deleted, is caught up after downtime, and is never counted twice.

const TZ = 'Asia/Ho_Chi_Minh'
const day = (offsetDays = 0) => DateTime.now().setZone(TZ).plus({ days: offsetDays }).toISODate() as string
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Report {
  totals: { minutesRequested: number }
  rows: { unitId: string; minutesRequested: number }[]
  series: { date: string; minutesRequested: number }[]
}

let planes: TestPlane[] = []
afterEach(async () => {
  for (const p of planes) await p.close()
  planes = []
})

async function plane(dataDir?: string): Promise<TestPlane> {
  // A long interval: the test decides when the ledger is closed (by a report or a schedule change).
  const t = await startTestPlane({ requestedLedgerEveryMs: 3_600_000, ...(dataDir ? { dataDir } : {}) })
  planes.push(t)
  return t
}

/** A six-second bulletin. */
async function bulletin(t: TestPlane): Promise<string> {
  const m = await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'six.wav', { seconds: 6 })))
  const b = await t.api<{ id: string }>('POST', '/api/bulletins', {
    title: 'Tin',
    level: 'normal',
    mediaSha256: m.body.sha256,
  })
  return b.body.id
}

async function schedule(t: TestPlane, bulletinId: string, at: Date, unit: string): Promise<string> {
  const r = await t.api<{ id: string }>('POST', '/api/schedules', {
    bulletinId,
    recurrence: { kind: 'once', at: at.toISOString() },
    targets: { units: [unit] },
  })
  expect(r.status).toBe(201)
  return r.body.id
}

const report = async (t: TestPlane) => {
  const r = await t.api<Report>('GET', `/api/reports?unitId=prov&from=${day(-1)}&to=${day(1)}`)
  expect(r.status).toBe(200)
  return r.body
}
const commune = (r: Report, id: string) => r.rows.find((x) => x.unitId === id)?.minutesRequested

function ledgerRows(dir: string) {
  const db = new Database(path.join(dir, 'loa.db'), { readonly: true })
  try {
    return db
      .prepare('SELECT cluster_id, schedule_id, requested_ms, occurrences FROM requested_days')
      .all() as {
      cluster_id: string
      schedule_id: string
      requested_ms: number
      occurrences: number
    }[]
  } finally {
    db.close()
  }
}

describe('requested-minutes ledger', () => {
  it('keeps what a deleted schedule asked for, and drops one deleted before it was due', async () => {
    const t = await plane()
    await seedTree(t)
    const b = await bulletin(t)
    const soon = new Date(Date.now() + 1_500)
    const played = await schedule(t, b, soon, 'xa-a') // c-a and c-a1: 2 × 6 s
    const never = await schedule(t, b, new Date(Date.now() + 3_600_000), 'xa-b')
    await sleep(Math.max(0, soon.getTime() - Date.now()) + 500)

    const before = await report(t)
    expect(before.totals.minutesRequested).toBe(0.2)
    expect(commune(before, 'xa-a')).toBe(0.2)
    expect(commune(before, 'xa-b')).toBe(0)

    expect((await t.api('DELETE', `/api/schedules/${played}`)).status).toBe(204)
    expect((await t.api('DELETE', `/api/schedules/${never}`)).status).toBe(204)
    const after = await report(t)
    expect(after.totals.minutesRequested).toBe(0.2)
    expect(commune(after, 'xa-a')).toBe(0.2)
    expect(after.series.reduce((sum, d) => sum + d.minutesRequested, 0)).toBeCloseTo(0.2, 5)
    // Stored once per cluster, whatever the number of reports and closes.
    await Promise.all([report(t), report(t), report(t)])
    const rows = ledgerRows(t.dir).filter((r) => r.schedule_id === played)
    expect(rows.map((r) => r.cluster_id).sort()).toEqual(['c-a', 'c-a1'])
    expect(rows.every((r) => r.occurrences === 1 && r.requested_ms === rows[0]?.requested_ms)).toBe(true)
    expect(ledgerRows(t.dir).some((r) => r.schedule_id === never)).toBe(false)
  })

  it('catches up on what was due while the control plane was down', async () => {
    const first = await plane()
    await seedTree(first)
    const b = await bulletin(first)
    const whileDown = new Date(Date.now() + 2_000)
    const id = await schedule(first, b, whileDown, 'xa-b') // c-b: 6 s
    // Stopped, its data directory kept (TestPlane.close would remove it).
    await first.cp.close()
    planes = []
    await sleep(Math.max(0, whileDown.getTime() - Date.now()) + 500)

    const again = await plane(first.dir)
    // The schedule is gone before any report is asked: the restart's own close already wrote it down.
    expect((await again.api('DELETE', `/api/schedules/${id}`)).status).toBe(204)
    const r = await report(again)
    expect(commune(r, 'xa-b')).toBe(0.1)
    expect(ledgerRows(again.dir).filter((x) => x.schedule_id === id)).toHaveLength(1)
  })
})
