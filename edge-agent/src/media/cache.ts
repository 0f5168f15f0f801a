import { createHash } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { CachedMedia } from '@loa/shared'
import type { Outbox } from '../link/outbox.js'
import type { Db } from '../storage/db.js'
import { isDiskFull } from '../storage/guard.js'

export type MediaState = 'ready' | 'missing' | 'downloading' | 'failed' | 'corrupt'

export interface MediaRow {
  sha256: string
  size: number
  state: MediaState
  error: string | null
  last_used: string | null
}

const SHA_RE = /^[a-f0-9]{64}$/

/** File names come only from validated sha256s, never from the network. */
function checkSha(sha: string): string {
  if (!SHA_RE.test(sha)) throw new Error(`not a sha256: ${JSON.stringify(sha).slice(0, 80)}`)
  return sha
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Bookkeeping that must not stop a play when the disk is full (when a file was last used or verified). */
function unlessDiskFull(write: () => void): void {
  try {
    write()
  } catch (err) {
    if (!isDiskFull(err)) throw err
  }
}

/** The media index (table `media`) and the files in `<dataDir>/media`, named by their sha256. */
export class MediaCache {
  constructor(
    private readonly db: Db,
    readonly dir: string,
    private readonly outbox: Outbox,
  ) {
    mkdirSync(dir, { recursive: true })
  }

  path(sha: string): string {
    return join(this.dir, checkSha(sha))
  }

  partPath(sha: string): string {
    return join(this.dir, `${checkSha(sha)}.part`)
  }

  get(sha: string): MediaRow | undefined {
    return this.db.prepare('SELECT * FROM media WHERE sha256 = ?').get(sha) as MediaRow | undefined
  }

  all(): MediaRow[] {
    return this.db.prepare('SELECT * FROM media ORDER BY sha256').all() as MediaRow[]
  }

  /** Makes sure the index knows a file the desired state refers to. */
  ensure(sha: string, size: number): void {
    checkSha(sha)
    this.db
      .prepare(
        `INSERT INTO media (sha256, size, state) VALUES (?, ?, 'missing')
         ON CONFLICT (sha256) DO UPDATE SET size = excluded.size WHERE media.state != 'ready'`,
      )
      .run(sha, size)
  }

  setState(sha: string, state: MediaState, error: string | null = null): void {
    this.db
      .prepare('UPDATE media SET state = ?, error = ? WHERE sha256 = ?')
      .run(state, error?.slice(0, 500) ?? null, sha)
  }

  markReady(sha: string, size: number): void {
    const now = new Date().toISOString()
    this.db
      .prepare(
        `INSERT INTO media (sha256, size, state, last_used, verified_at) VALUES (?, ?, 'ready', ?, ?)
         ON CONFLICT (sha256) DO UPDATE SET size = excluded.size, state = 'ready', error = NULL,
         last_used = excluded.last_used, verified_at = excluded.verified_at`,
      )
      .run(sha, size, now, now)
  }

  touch(sha: string): void {
    unlessDiskFull(() =>
      this.db.prepare('UPDATE media SET last_used = ? WHERE sha256 = ?').run(new Date().toISOString(), sha),
    )
  }

  /** Ready in the index and the file is there with the right size (cheap; the hash is checked by verify). */
  isReady(sha: string): boolean {
    const row = this.get(sha)
    if (row?.state !== 'ready') return false
    try {
      return statSync(this.path(sha)).size === row.size
    } catch {
      return false
    }
  }

  /** Full check of one cached file: exists, size, sha256. */
  async verify(sha: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    const row = this.get(sha)
    const file = this.path(sha)
    if (!existsSync(file)) return { ok: false, reason: 'file missing' }
    const size = statSync(file).size
    if (row && size !== row.size) return { ok: false, reason: `size ${size} != ${row.size}` }
    const actual = await sha256File(file)
    if (actual !== sha) return { ok: false, reason: `sha256 ${actual}` }
    unlessDiskFull(() =>
      this.db.prepare('UPDATE media SET verified_at = ? WHERE sha256 = ?').run(new Date().toISOString(), sha),
    )
    return { ok: true }
  }

  /** Marks a file corrupt: deletes it, reports `media-corrupt`, and leaves it for the reconciler to fetch again. */
  markCorrupt(sha: string, reason: string): void {
    try {
      unlinkSync(this.path(sha))
    } catch {
      // Already gone: nothing to delete.
    }
    this.db.transaction(() => {
      this.setState(sha, 'corrupt', reason)
      this.outbox.event('media-corrupt', 'warning', `cached media ${sha} failed verification: ${reason}`, {
        sha256: sha,
        reason,
      })
    })()
  }

  /** Verifies every file the index holds as ready (at start and on resync). Returns the corrupt ones. */
  async verifyAll(): Promise<string[]> {
    const bad: string[] = []
    for (const row of this.all()) {
      if (row.state !== 'ready') continue
      const r = await this.verify(row.sha256)
      if (!r.ok) {
        this.markCorrupt(row.sha256, r.reason)
        bad.push(row.sha256)
      }
    }
    return bad
  }

  cacheBytes(): number {
    return (
      this.db.prepare("SELECT coalesce(sum(size), 0) AS n FROM media WHERE state = 'ready'").get() as {
        n: number
      }
    ).n
  }

  /**
   * Deletes unreferenced ready files, least recently used first, until `fits(cacheBytes)` holds.
   * Referenced media are never evicted. Returns what was evicted.
   */
  evict(
    referenced: ReadonlySet<string>,
    fits: (freedBytes: number) => boolean,
  ): { sha256: string; size: number }[] {
    const candidates = this.db
      .prepare("SELECT sha256, size FROM media WHERE state = 'ready' ORDER BY coalesce(last_used, '') ASC")
      .all() as { sha256: string; size: number }[]
    const evicted: { sha256: string; size: number }[] = []
    let freed = 0
    for (const c of candidates) {
      if (fits(freed)) break
      if (referenced.has(c.sha256)) continue
      try {
        unlinkSync(this.path(c.sha256))
      } catch {
        // Already gone.
      }
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM media WHERE sha256 = ?').run(c.sha256)
        this.outbox.event('media-evicted', 'info', `evicted ${c.sha256} (${c.size} bytes)`, {
          sha256: c.sha256,
          size: c.size,
        })
      })()
      freed += c.size
      evicted.push(c)
    }
    return evicted
  }

  /** Forgets index rows no desired state refers to and that hold no file (e.g. failed downloads of old states). */
  forgetUnreferenced(referenced: ReadonlySet<string>): void {
    for (const row of this.all()) {
      if (row.state !== 'ready' && !referenced.has(row.sha256)) {
        this.db.prepare('DELETE FROM media WHERE sha256 = ?').run(row.sha256)
      }
    }
  }

  /**
   * Adopts a complete file the index does not know as ready (a crash between rename and index update), after
   * verifying it. Returns whether it is ready now.
   */
  async adopt(sha: string, size: number): Promise<boolean> {
    if (!existsSync(this.path(sha))) return false
    const v = await this.verify(sha)
    if (v.ok) this.markReady(sha, size)
    else unlinkSync(this.path(sha))
    return v.ok
  }

  /** Deletes files nothing refers to: stale `.part`s and files the index does not hold as ready. */
  sweep(referenced: ReadonlySet<string>): void {
    for (const name of readdirSync(this.dir)) {
      const m = /^([a-f0-9]{64})(\.part)?$/.exec(name)
      if (!m?.[1] || referenced.has(m[1])) continue
      if (m[2] || this.get(m[1])?.state !== 'ready') {
        try {
          unlinkSync(join(this.dir, name))
        } catch {
          // Gone already.
        }
      }
    }
  }

  inventory(): CachedMedia[] {
    return this.all().map((r) => {
      const state = r.state === 'corrupt' ? 'missing' : r.state
      const m: CachedMedia = { sha256: r.sha256, size: r.size, state }
      if (r.error) m.error = r.error
      return m
    })
  }
}
