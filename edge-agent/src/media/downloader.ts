import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rename, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { AgentError } from '../errors.js'

export interface DownloadJob {
  url: string
  sha256: string
  size: number
  /** `<sha256>.part`: never played, resumed from its size. */
  partPath: string
  finalPath: string
  signal?: AbortSignal
  /** A transfer that delivers nothing for this long is aborted (the part is kept, the next try resumes). */
  idleTimeoutMs?: number
  /** Adds the device's credentials and TLS material (link/verify-http.ts); default: global fetch. */
  fetch?: typeof fetch
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}

async function hashPrefix(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
}

function reason(err: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason.message
  return (err as Error).message
}

async function removePart(path: string): Promise<void> {
  await unlink(path).catch(() => {})
}

/**
 * Downloads one file into its `.part`, resuming with a Range request from the part's size, verifies size and
 * sha256, fsyncs, then renames it into place atomically. A bad result deletes the part and throws
 * LOA_DOWNLOAD_SIZE / LOA_DOWNLOAD_HASH; a network error keeps the part so the next try resumes.
 */
export async function downloadMedia(job: DownloadJob): Promise<{ resumedFrom: number }> {
  let offset = await sizeOf(job.partPath)
  if (offset > job.size) {
    await removePart(job.partPath)
    offset = 0
  }
  const hash = createHash('sha256')
  if (offset > 0) await hashPrefix(job.partPath, hash)

  // 4G links stall rather than fail: a watchdog aborts a transfer that has gone quiet.
  const idle = new AbortController()
  const idleMs = job.idleTimeoutMs ?? 60_000
  let watchdog = setTimeout(() => idle.abort(new Error(`no data for ${idleMs} ms`)), idleMs)
  const kick = () => {
    clearTimeout(watchdog)
    watchdog = setTimeout(() => idle.abort(new Error(`no data for ${idleMs} ms`)), idleMs)
  }
  const signal = job.signal ? AbortSignal.any([job.signal, idle.signal]) : idle.signal
  try {
    return await transfer(job, offset, hash, signal, kick)
  } finally {
    clearTimeout(watchdog)
  }
}

async function transfer(
  job: DownloadJob,
  startOffset: number,
  prefixHash: Hash,
  signal: AbortSignal,
  kick: () => void,
): Promise<{ resumedFrom: number }> {
  let offset = startOffset
  let hash = prefixHash
  let res: Response
  try {
    const headers: Record<string, string> = {}
    // A complete part still needs one request: we ask for its last byte to confirm it is the same file.
    if (offset > 0) headers.range = `bytes=${offset === job.size ? offset - 1 : offset}-`
    res = await (job.fetch ?? fetch)(job.url, { headers, signal })
  } catch (err) {
    throw new AgentError('LOA_DOWNLOAD_NETWORK', [job.url, reason(err, signal)])
  }
  if (offset === job.size && res.status === 206) {
    // The part was already complete: drop the overlap byte, verify below.
    await res.body?.cancel()
  } else if (res.status === 206 && offset > 0) {
    const range = res.headers.get('content-range') ?? ''
    const start = Number(/^bytes (\d+)-/.exec(range)?.[1] ?? Number.NaN)
    if (start !== offset) {
      await res.body?.cancel()
      await removePart(job.partPath)
      throw new AgentError('LOA_DOWNLOAD_HTTP', [
        job.url,
        `unexpected Content-Range "${range}" for offset ${offset}`,
      ])
    }
  } else if (res.status === 200) {
    // The server ignored Range (or we asked from 0): start over.
    offset = 0
    hash = createHash('sha256')
  } else {
    await res.body?.cancel()
    if (res.status === 416) await removePart(job.partPath)
    throw new AgentError('LOA_DOWNLOAD_HTTP', [job.url, `HTTP ${res.status}`])
  }

  let written = offset
  if (!(offset === job.size && res.status === 206)) {
    const fh = await open(job.partPath, offset === 0 ? 'w' : 'a')
    try {
      if (res.body) {
        try {
          for await (const chunk of res.body) {
            kick()
            const buf = Buffer.from(chunk)
            written += buf.length
            if (written > job.size) break
            hash.update(buf)
            await fh.write(buf)
          }
        } catch (err) {
          await fh.sync()
          throw new AgentError('LOA_DOWNLOAD_NETWORK', [
            job.url,
            `after ${written} bytes: ${reason(err, signal)}`,
          ])
        }
      }
      await fh.sync()
    } finally {
      await fh.close()
    }
  }
  if (written !== job.size) {
    await removePart(job.partPath)
    throw new AgentError('LOA_DOWNLOAD_SIZE', [
      `${job.sha256}: got ${written > job.size ? 'more than' : ''} ${written} bytes, expected ${job.size}`,
    ])
  }
  const actual = hash.digest('hex')
  if (actual !== job.sha256) {
    await removePart(job.partPath)
    throw new AgentError('LOA_DOWNLOAD_HASH', [`expected ${job.sha256}, got ${actual}`])
  }
  await rename(job.partPath, job.finalPath)
  // fsync the directory so the rename itself survives a power cut.
  const dir = await open(dirname(job.finalPath), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
  return { resumedFrom: offset }
}
