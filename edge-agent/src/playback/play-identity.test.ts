import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DesiredStateBody, PlayReportBody } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { describe, expect, it } from 'vitest'
import { desired, playReport } from '../../test-kit/messages.js'
import { sha256, silentLog, tmp, tone } from '../../test-kit/test-helpers.js'
import { DesiredStore } from '../desired/store.js'
import { LoggedAmpSwitch } from '../hardware/amp-switch.js'
import { Outbox } from '../link/outbox.js'
import { MediaCache } from '../media/cache.js'
import { Scheduler } from '../schedule/scheduler.js'
import { kvSet, openDb } from '../storage/db.js'
import { parseOutput } from './audio-output.js'
import { recordPlay } from './play-log.js'
import { Player } from './player.js'

function setup(dataDir: string) {
  const db = openDb(join(dataDir, 'agent.db'))
  const outbox = new Outbox(db)
  const cache = new MediaCache(db, join(dataDir, 'media'), outbox)
  const store = new DesiredStore(db)
  const sched = new Scheduler({
    db,
    outbox,
    cache,
    ampSwitch: new LoggedAmpSwitch(db),
    log: silentLog,
    player: new Player(parseOutput('null')),
    desired: () => store.received()?.body ?? null,
    defaultTimezone: 'Asia/Ho_Chi_Minh',
    prerollMs: 100,
    postrollMs: 100,
    lateToleranceMs: 60_000,
    tickMs: 100,
  })
  const plays = () =>
    db.prepare('SELECT schedule_id, occurrence, status, attempt FROM plays ORDER BY seq').all() as {
      schedule_id: string
      occurrence: string
      status: string
      attempt: number | null
    }[]
  return { db, outbox, cache, store, sched, plays }
}

const report = playReport

describe('proof of play is named by what it is', () => {
  it('numbers the reports of one item of one occurrence (attempt), in the play log and on the wire', () => {
    const s = setup(tmp())
    s.db.transaction(() => {
      recordPlay(s.db, s.outbox, report({ status: 'interrupted' }))
      recordPlay(s.db, s.outbox, report())
      recordPlay(s.db, s.outbox, report({ sha256: 'b'.repeat(64) }))
      recordPlay(s.db, s.outbox, report({ occurrence: '2026-03-02T00:00:00.000Z' }))
      recordPlay(s.db, s.outbox, report({ scheduleId: null, occurrence: null, fallback: true }))
    })()
    expect(s.plays().map((p) => p.attempt)).toEqual([0, 1, 0, 0, null])
    const sent = s.outbox.takeDue().map((e) => (e.body as PlayReportBody).attempt)
    expect(sent).toEqual([0, 1, 0, 0, undefined])
    s.db.close()
  })

  it('an occurrence already in the play log is neither played nor reported again when the cursor goes back', async () => {
    const dataDir = tmp()
    const s = setup(dataDir)
    const t = tone(dataDir, 0.5)
    const sha = sha256(t.data)
    copyFileSync(t.path, s.cache.path(sha))
    s.cache.markReady(sha, t.data.length)
    const at = new Date(Math.floor((Date.now() - 2000) / 1000) * 1000).toISOString().replace('.000Z', 'Z')
    const body: DesiredStateBody = {
      ...desired(1, [{ sha256: sha, size: t.data.length, url: `/m/${sha}` }]),
      schedule: [
        {
          id: 'once',
          title: 'once',
          level: 'normal',
          priority: 50,
          items: [sha],
          recurrence: { kind: 'once', at },
        },
      ],
    }
    s.store.saveReceived(body)
    const before = new Date(Date.now() - 10 * 60_000).toISOString()
    kvSet(s.db, 'scheduler.cursor', before)
    s.sched.start()
    await waitFor(() => (s.plays().length > 0 ? true : null), 15_000, 'the first play')
    await s.sched.stop()
    expect(s.plays().map((p) => [p.schedule_id, p.status, p.attempt])).toEqual([['once', 'played', 0]])
    // The cursor is back where it was before the play (a WAL that lost its last frames, a database recovered
    // without its cursor), while the play log still holds the play: it is not played a second time.
    kvSet(s.db, 'scheduler.cursor', before)
    s.db.close()
    const s2 = setup(dataDir)
    s2.sched.start()
    await new Promise((r) => setTimeout(r, 1500))
    await s2.sched.stop()
    expect(s2.plays()).toHaveLength(1)
    s2.db.close()
  })
})
