import { join } from 'node:path'
import { hashPassword } from '@loa/shared/password-hash'
import { waitFor } from '@loa/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { desired } from '../../test-kit/messages.js'
import { type MediaServer, StreamSource, startMediaServer } from '../../test-kit/servers.js'
import { sha256, silentLog, tmp } from '../../test-kit/test-helpers.js'
import { Reconciler } from '../desired/reconciler.js'
import { DesiredStore } from '../desired/store.js'
import { Outbox } from '../link/outbox.js'
import { MediaCache } from '../media/cache.js'
import { parseOutput } from '../playback/audio-output.js'
import { LiveConnection } from '../relays/live-player.js'
import { openDb } from '../storage/db.js'
import { TechnicianAuth } from '../technician/auth.js'

// Durations, back-offs and timeouts must not follow the wall clock. Here only `Date` is faked (vitest), so the wall
// clock can be stepped while timers and performance.now() run for real, as on a box whose clock NTP steps.
const H = 3600_000
const step = (ms: number) => vi.setSystemTime(Date.now() + ms)

describe('durations are monotonic: a step of the wall clock changes no wait', () => {
  let srv: MediaServer
  beforeAll(async () => {
    srv = await startMediaServer()
  })
  afterAll(() => srv.close())
  afterEach(() => {
    vi.useRealTimers()
  })

  it('a failed download is retried after its back-off, not two hours later, when the clock steps back', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
    const dataDir = tmp()
    const db = openDb(join(dataDir, 'agent.db'))
    const outbox = new Outbox(db)
    const cache = new MediaCache(db, join(dataDir, 'media'), outbox)
    const store = new DesiredStore(db)
    const rec = new Reconciler({
      db,
      store,
      cache,
      outbox,
      log: silentLog,
      controlPlaneUrl: srv.url,
      agentVersion: 't',
      dataDir,
      cacheBudgetBytes: 1e9,
      minFreeBytes: 0,
      retryBaseMs: 300,
      retryMaxMs: 600,
    })
    const data = Buffer.from('a bulletin, say '.repeat(300))
    const sha = sha256(data)
    srv.files.set(`/m/${sha}`, data)
    srv.failures.set(`/m/${sha}`, 1)
    rec.accept(desired(1, [{ sha256: sha, size: data.length, url: `m/${sha}` }]))
    await waitFor(() => cache.get(sha)?.state === 'failed', 5000, 'first attempt failed')
    step(-2 * H)
    await waitFor(() => store.applied()?.version === 1, 5000, 'retried and applied')
    rec.stop()
    db.close()
  })

  it('a live connection is not dropped as stalled when the clock steps forward', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
    const src = new StreamSource()
    await src.up()
    const conn = new LiveConnection(src.url, parseOutput('null'), { connectMs: 8000, stallMs: 2000 })
    try {
      await conn.ready
      step(H)
      await new Promise((r) => setTimeout(r, 800))
      expect(conn.closed).toBe(false)
    } finally {
      conn.close('test over')
      await src.down()
    }
  })

  it('a technician lockout lasts its five minutes, not two hours more, when the clock steps back', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
    const hash = await hashPassword('đúng-mật-khẩu', { N: 1024 })
    const auth = new TechnicianAuth(() => hash)
    for (let i = 0; i < 5; i++) await auth.login('sai', '10.0.0.9')
    const locked = await auth.login('đúng-mật-khẩu', '10.0.0.9')
    expect(locked).toMatchObject({ ok: false, reason: 'locked' })
    step(-2 * H)
    const again = await auth.login('đúng-mật-khẩu', '10.0.0.9')
    expect(again).toMatchObject({ ok: false, reason: 'locked' })
    expect((again as { retryAfterS: number }).retryAfterS).toBeLessThanOrEqual(300)
  })
})
