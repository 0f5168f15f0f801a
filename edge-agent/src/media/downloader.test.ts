import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
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
import { downloadMedia } from './downloader.js'

const blob = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251))

describe('downloadMedia against a real HTTP server', () => {
  let srv: MediaServer
  beforeAll(async () => {
    srv = await startMediaServer()
  })
  afterAll(() => srv.close())

  function job(dir: string, data: Buffer, path: string, size = data.length, sha = sha256(data)) {
    return {
      url: `${srv.url}${path}`,
      sha256: sha,
      size,
      partPath: join(dir, `${sha}.part`),
      finalPath: join(dir, sha),
    }
  }

  it('resumes from a partial .part with a Range request', async () => {
    const dir = tmp()
    const data = blob(200_000, 1)
    srv.files.set('/a', data)
    const j = job(dir, data, '/a')
    writeFileSync(j.partPath, data.subarray(0, 70_000))
    srv.requests.length = 0
    const r = await downloadMedia(j)
    expect(r.resumedFrom).toBe(70_000)
    expect(srv.requests).toEqual([{ path: '/a', range: 'bytes=70000-' }])
    expect(sha256(readFileSync(j.finalPath))).toBe(j.sha256)
    expect(existsSync(j.partPath)).toBe(false)
  })

  it('aborts a stalled transfer, keeps the part, and resumes from it', async () => {
    const dir = tmp()
    const data = blob(30_000, 6)
    srv.files.set('/s', data)
    srv.stallAfter.set('/s', 12_000)
    const j = { ...job(dir, data, '/s'), idleTimeoutMs: 300 }
    await expect(downloadMedia(j)).rejects.toMatchObject({ code: 'LOA_DOWNLOAD_NETWORK' })
    expect(statSync(j.partPath).size).toBe(12_000)
    const r = await downloadMedia(j)
    expect(r.resumedFrom).toBe(12_000)
    expect(sha256(readFileSync(j.finalPath))).toBe(j.sha256)
  })

  it('starts over cleanly when the server ignores Range (200)', async () => {
    const dir = tmp()
    const data = blob(50_000, 2)
    srv.files.set('/b', data)
    srv.ignoreRange = true
    try {
      const j = job(dir, data, '/b')
      writeFileSync(j.partPath, Buffer.alloc(20_000, 7)) // a wrong prefix: must not survive
      const r = await downloadMedia(j)
      expect(r.resumedFrom).toBe(0)
      expect(sha256(readFileSync(j.finalPath))).toBe(j.sha256)
    } finally {
      srv.ignoreRange = false
    }
  })

  it('a hash mismatch deletes the part; a size mismatch too', async () => {
    const dir = tmp()
    const data = blob(10_000, 3)
    srv.files.set('/c', data)
    const wrongSha = sha256(Buffer.from('something else'))
    const j = job(dir, data, '/c', data.length, wrongSha)
    await expect(downloadMedia(j)).rejects.toMatchObject({ code: 'LOA_DOWNLOAD_HASH' })
    expect(existsSync(j.partPath)).toBe(false)
    expect(existsSync(j.finalPath)).toBe(false)
    const k = job(dir, data, '/c', data.length + 5)
    await expect(downloadMedia(k)).rejects.toMatchObject({ code: 'LOA_DOWNLOAD_SIZE' })
    expect(existsSync(k.partPath)).toBe(false)
  })
})

describe('reconciler downloads', () => {
  let srv: MediaServer
  beforeAll(async () => {
    srv = await startMediaServer()
  })
  afterAll(() => srv.close())

  function setup() {
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
      retryBaseMs: 100,
      retryMaxMs: 400,
    })
    const events = (kind: string) =>
      (db.prepare("SELECT body FROM outbox WHERE channel = 'event'").all() as { body: string }[])
        .map((r) => JSON.parse(r.body))
        .filter((e) => e.kind === kind)
    return { db, outbox, cache, store, rec, events }
  }

  it('a 404 is retried with backoff until the file appears, then the state is applied', async () => {
    const { cache, store, rec, events, db } = setup()
    const data = blob(5000, 4)
    const sha = sha256(data)
    srv.files.set(`/m/${sha}`, data)
    srv.failures.set(`/m/${sha}`, 2)
    rec.accept(desired(1, [{ sha256: sha, size: data.length, url: `m/${sha}` }]))
    await waitFor(() => store.applied()?.version === 1, 10_000, 'applied')
    expect(cache.isReady(sha)).toBe(true)
    expect(events('download-failed')).toHaveLength(2)
    expect(events('desired-applied')).toHaveLength(1)
    rec.stop()
    db.close()
  })

  it('a hash mismatch reports hash-mismatch and never marks the file ready', async () => {
    const { cache, store, rec, events, db } = setup()
    const data = blob(3000, 5)
    const claimed = sha256(Buffer.from('the real file'))
    srv.files.set('/bad', data)
    rec.accept(desired(1, [{ sha256: claimed, size: data.length, url: '/bad' }]))
    await waitFor(() => events('hash-mismatch').length >= 2, 10_000, 'hash-mismatch events')
    expect(cache.get(claimed)?.state).not.toBe('ready')
    expect(existsSync(cache.partPath(claimed))).toBe(false)
    expect(existsSync(cache.path(claimed))).toBe(false)
    expect(store.applied()).toBeNull()
    rec.stop()
    db.close()
  })

  it('ignores a desired state not newer than the one held, drops invalid entries with schedule-invalid', () => {
    const { store, rec, events, db } = setup()
    const d = desired(5, [])
    d.schedule = [
      {
        id: 'ok',
        title: 't',
        level: 'normal',
        priority: 50,
        items: [],
        recurrence: { kind: 'once', at: '2030-01-01T00:00:00Z' },
      },
      {
        id: 'bad',
        title: 't',
        level: 'normal',
        priority: 50,
        items: [],
        recurrence: { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-02-30' },
      },
    ]
    expect(rec.accept(d)).toBe('stored')
    expect(store.received()?.body.schedule.map((s) => s.id)).toEqual(['ok'])
    expect(events('schedule-invalid')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ scheduleId: 'bad' }) }),
    ])
    expect(rec.accept(desired(4, []))).toBe('ignored')
    expect(rec.accept(desired(5, []))).toBe('ignored')
    expect(store.received()?.version).toBe(5)
    rec.stop()
    db.close()
  })
})
