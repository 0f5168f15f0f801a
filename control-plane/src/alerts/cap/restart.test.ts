import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, expect, it } from 'vitest'
import { capXml, isoSecond, postCap } from '../../../test-kit/cap.js'
import { seedTree, startTestPlane, type TestPlane } from '../../../test-kit/test-helpers.js'
import { migrate } from '../../storage/db.js'
import { MIGRATIONS } from '../../storage/migrations/index.js'

let t: TestPlane | null = null
afterAll(async () => {
  await t?.close()
})

const now = Date.now()
const s = (seconds: number) => now + seconds * 1000

it('what CAP ingest remembers survives a control-plane restart: Cancels, cancelled chains, the order by sent', async () => {
  const first = await startTestPlane()
  await seedTree(first)
  // A Cancel of an Alert not received yet; a chain cancelled, with an Update still on its way; a chain updated.
  expect(
    (
      await postCap(
        first,
        capXml({ identifier: 'R-C1', sent: s(-10), msgType: 'Cancel', refs: [['R-A1', s(-20)]] }),
      )
    ).status,
  ).toBe(202)
  const a2 = await postCap(first, capXml({ identifier: 'R-A2', sent: s(-30) }))
  expect(a2.status).toBe(201)
  const c2 = {
    identifier: 'R-C2',
    sent: s(-10),
    msgType: 'Cancel' as const,
    refs: [
      ['R-A2', s(-30)],
      ['R-U2', s(-20)],
    ] as [string, number][],
  }
  expect((await postCap(first, capXml(c2))).body.action).toBe('cancelled')
  const a3 = await postCap(first, capXml({ identifier: 'R-A3', sent: s(-30) }))
  const u3 = {
    identifier: 'R-U3',
    sent: s(-10),
    msgType: 'Update' as const,
    refs: [['R-A3', s(-30)]] as [string, number][],
    headline: 'Mới',
  }
  expect((await postCap(first, capXml(u3))).body.revision).toBe(2)
  await first.cp.close() // keeps the data directory

  t = await startTestPlane({ dataDir: first.dir })
  const plane = t
  const alerts = async () => (await plane.api<{ alerts: unknown[] }>('GET', '/api/alerts')).body.alerts.length
  const before = await alerts()
  const late1 = await postCap(plane, capXml({ identifier: 'R-A1', sent: s(-20) }))
  expect(late1.body).toMatchObject({ action: 'cancelled', alertId: null, sent: false })
  const late2 = await postCap(
    plane,
    capXml({ identifier: 'R-U2', sent: s(-20), msgType: 'Update', refs: [['R-A2', s(-30)]] }),
  )
  expect(late2.body).toMatchObject({ action: 'cancelled', sent: false })
  const late3 = await postCap(
    plane,
    capXml({ identifier: 'R-U3b', sent: s(-20), msgType: 'Update', refs: [['R-A3', s(-30)]] }),
  )
  expect(late3.body).toMatchObject({
    action: 'superseded',
    alertId: a3.body.alertId,
    revision: 2,
    sent: false,
  })
  expect(await alerts()).toBe(before)
  // Repeats are still repeats.
  expect((await postCap(plane, capXml(c2))).body.action).toBe('duplicate')
  expect((await postCap(plane, capXml(u3))).body).toMatchObject({
    action: 'duplicate',
    alertId: a3.body.alertId,
  })
})

it('migration 9 keeps what version 2 recorded, with the status the alert shows', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cap-mig-'))
  const db = new Database(path.join(dir, 'loa.db'))
  try {
    db.pragma('foreign_keys = ON')
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    )
    for (const m of MIGRATIONS.filter((x) => x.version < 9)) {
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, isoSecond(now))
    }
    const alert =
      db.prepare(`INSERT INTO alerts (id, revision, ack_id, title, level, priority, items, repeat, starts_at,
      expires_at, audible, volume, state, targets, source, created_at, updated_at)
      VALUES (?, 1, ?, 't', 'emergency', 255, '[]', 1, ?, ?, ?, NULL, 'active', '{}', 'cap', ?, ?)`)
    const at = isoSecond(now)
    alert.run('a-actual', 'ack-1', at, at, 1, at, at)
    alert.run('a-test', 'ack-2', at, at, 0, at, at)
    const msg = db.prepare('INSERT INTO cap_messages VALUES (?, ?, ?, ?, ?, ?)')
    msg.run('s', 'M-1', at, 'Alert', 'a-actual', at)
    msg.run('s', 'M-2', at, 'Alert', 'a-test', at)
    msg.run('s', 'M-3', at, 'Cancel', 'a-test', at)
    migrate(db)
    expect(
      db
        .prepare('SELECT identifier, status, msg_type, alert_id, outcome FROM cap_log ORDER BY identifier')
        .all(),
    ).toEqual([
      { identifier: 'M-1', status: 'Actual', msg_type: 'Alert', alert_id: 'a-actual', outcome: 'raised' },
      {
        identifier: 'M-2',
        status: 'Test or Exercise',
        msg_type: 'Alert',
        alert_id: 'a-test',
        outcome: 'raised',
      },
      {
        identifier: 'M-3',
        status: 'Test or Exercise',
        msg_type: 'Cancel',
        alert_id: 'a-test',
        outcome: 'cancelled',
      },
    ])
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'cap_messages'").get()).toBeUndefined()
  } finally {
    db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
