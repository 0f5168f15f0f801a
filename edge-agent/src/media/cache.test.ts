import { existsSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { desired } from '../../test-kit/messages.js'
import { type MediaServer, startMediaServer } from '../../test-kit/servers.js'
import { sha256, silentLog, tmp } from '../../test-kit/test-helpers.js'
import { Reconciler } from '../desired/reconciler.js'
import { DesiredStore } from '../desired/store.js'
import { Outbox } from '../link/outbox.js'
import { openDb } from '../storage/db.js'
import { MediaCache } from './cache.js'

const blob = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 253))

describe('media cache', () => {
  let srv: MediaServer
  beforeAll(async () => {
    srv = await startMediaServer()
  })
  afterAll(() => srv.close())

  function setup(budget = 1e9) {
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
      cacheBudgetBytes: budget,
      minFreeBytes: 0,
      retryBaseMs: 100,
    })
    const events = (kind: string) =>
      (db.prepare("SELECT body FROM outbox WHERE channel = 'event'").all() as { body: string }[])
        .map((r) => JSON.parse(r.body))
        .filter((e) => e.kind === kind)
    return { db, cache, store, rec, events }
  }

  function files(n: number, size: number, seed: number) {
    return Array.from({ length: n }, (_, i) => {
      const data = blob(size, seed + i)
      const sha = sha256(data)
      srv.files.set(`/f/${sha}`, data)
      return { sha256: sha, size, url: `/f/${sha}` }
    })
  }

  it('verification finds a corrupted and a deleted file, reports them and fetches them again', async () => {
    const { cache, store, rec, events, db } = setup()
    const refs = files(3, 4000, 10)
    rec.accept(desired(1, refs))
    await waitFor(() => store.applied()?.version === 1, 10_000, 'applied')
    const [a, b, c] = refs as [(typeof refs)[0], (typeof refs)[0], (typeof refs)[0]]
    writeFileSync(cache.path(a.sha256), Buffer.alloc(a.size, 1)) // same size, wrong bytes
    unlinkSync(cache.path(b.sha256))
    expect(cache.isReady(b.sha256)).toBe(false)
    const bad = await cache.verifyAll()
    expect(bad.sort()).toEqual([a.sha256, b.sha256].sort())
    expect(
      events('media-corrupt')
        .map((e) => e.data.sha256)
        .sort(),
    ).toEqual([a.sha256, b.sha256].sort())
    expect(cache.isReady(c.sha256)).toBe(true)
    rec.kick()
    await waitFor(() => cache.isReady(a.sha256) && cache.isReady(b.sha256), 10_000, 're-fetch')
    expect((await cache.verify(a.sha256)).ok).toBe(true)
    rec.stop()
    db.close()
  })

  it('eviction under the budget removes unreferenced media, least recently used first, never referenced ones', async () => {
    const { cache, store, rec, events, db } = setup(10_000)
    const old = files(2, 4000, 20)
    rec.accept(desired(1, old))
    await waitFor(() => store.applied()?.version === 1, 10_000, 'v1 applied')
    cache.touch(old[1]?.sha256 as string) // old[0] is now the least recently used
    // v2 keeps old[1] and adds one new file: 4000 + 4000 + 4000 > 10000, so old[0] must go.
    const fresh = files(1, 4000, 30)
    rec.accept(desired(2, [old[1] as (typeof old)[0], ...fresh]))
    await waitFor(() => store.applied()?.version === 2, 10_000, 'v2 applied')
    expect(events('media-evicted').map((e) => e.data.sha256)).toEqual([old[0]?.sha256])
    expect(existsSync(cache.path(old[0]?.sha256 as string))).toBe(false)
    expect(cache.isReady(old[1]?.sha256 as string)).toBe(true)
    expect(cache.isReady(fresh[0]?.sha256 as string)).toBe(true)
    // A state that cannot fit even after eviction reports disk-low and downloads what fits.
    const big = files(2, 4000, 40)
    rec.accept(desired(3, [old[1] as (typeof old)[0], ...fresh, ...big]))
    await waitFor(() => events('disk-low').length > 0, 10_000, 'disk-low')
    await rec.idle()
    expect(cache.isReady(old[1]?.sha256 as string)).toBe(true)
    expect(store.applied()?.version).toBe(2)
    rec.stop()
    db.close()
  })

  it('adopts a verified file left by a crash before the index update, and sweeps stale part files', async () => {
    const { cache, store, rec, db } = setup()
    const [a] = files(1, 3000, 50)
    if (!a) throw new Error('no file')
    writeFileSync(cache.path(a.sha256), srv.files.get(a.url) as Buffer) // renamed, never marked ready
    const stale = `${'0'.repeat(64)}.part`
    writeFileSync(join(cache.dir, stale), 'old')
    srv.requests.length = 0
    rec.accept(desired(1, [a]))
    await waitFor(() => store.applied()?.version === 1, 10_000, 'applied')
    expect(srv.requests).toEqual([]) // nothing downloaded again
    expect(existsSync(join(cache.dir, stale))).toBe(false)
    rec.stop()
    db.close()
  })
})
