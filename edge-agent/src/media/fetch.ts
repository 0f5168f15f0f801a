import type { MediaRef } from '@loa/shared'
import type { MediaCache } from './cache.js'
import { downloadMedia } from './downloader.js'

/**
 * Downloads one manifest entry into the cache (resumable, size and sha256 verified by `downloadMedia`). Shared by
 * the reconciler and by alerts, which fetch their media at once, alongside whatever the reconciler is doing: the
 * same file is never fetched twice at the same time (both would write one `.part`).
 */
export class MediaFetcher {
  private readonly inFlight = new Map<string, Promise<void>>()

  constructor(
    private readonly cache: MediaCache,
    private readonly baseUrl: string,
    private readonly signal: AbortSignal,
    private readonly fetchImpl?: typeof fetch,
  ) {}

  url(m: MediaRef): string {
    return new URL(m.url, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`).toString()
  }

  /** Resolves when the file is ready; throws an AgentError (LOA_DOWNLOAD_*) when it could not be fetched. */
  fetch(m: MediaRef): Promise<void> {
    const running = this.inFlight.get(m.sha256)
    if (running) return running
    const p = (async () => {
      this.cache.ensure(m.sha256, m.size)
      if (this.cache.isReady(m.sha256) || (await this.cache.adopt(m.sha256, m.size))) return
      this.cache.setState(m.sha256, 'downloading')
      await downloadMedia({
        url: this.url(m),
        sha256: m.sha256,
        size: m.size,
        partPath: this.cache.partPath(m.sha256),
        finalPath: this.cache.path(m.sha256),
        signal: this.signal,
        ...(this.fetchImpl ? { fetch: this.fetchImpl } : {}),
      })
      this.cache.markReady(m.sha256, m.size)
    })().finally(() => this.inFlight.delete(m.sha256))
    this.inFlight.set(m.sha256, p)
    return p
  }
}
