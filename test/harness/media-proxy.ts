import { createServer, type Server } from 'node:http'

export type ProxyMode = { kind: 'pass' } | { kind: 'slow'; bytesPerSecond: number } | { kind: 'corrupt' }

export interface MediaProxy {
  readonly url: string
  mode: ProxyMode
  /** Range headers of every media request seen, in order ('' for none). */
  readonly ranges: string[]
  /** Bytes of media body sent so far. */
  bytesSent: number
  close(): Promise<void>
}

/**
 * Sits between agents and the control plane's HTTP server, so a test can make media downloads slow (to kill an
 * agent mid-download) or corrupt (to see hash checks work), and see the Range requests of resumed downloads.
 */
export async function startMediaProxy(upstream: string): Promise<MediaProxy> {
  const proxy: MediaProxy = {
    url: '',
    mode: { kind: 'pass' },
    ranges: [],
    bytesSent: 0,
    close: async () => {},
  }
  const server: Server = createServer(async (req, res) => {
    try {
      const headers: Record<string, string> = {}
      if (req.headers.range) headers.range = req.headers.range
      if (req.headers.authorization) headers.authorization = req.headers.authorization
      if (req.url?.startsWith('/media/')) proxy.ranges.push(req.headers.range ?? '')
      const up = await fetch(`${upstream}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers })
      const body = Buffer.from(await up.arrayBuffer())
      const out: Record<string, string> = {}
      for (const h of ['content-type', 'content-range', 'accept-ranges', 'etag']) {
        const v = up.headers.get(h)
        if (v) out[h] = v
      }
      out['content-length'] = String(body.length)
      res.writeHead(up.status, out)
      const mode = proxy.mode
      if (mode.kind === 'corrupt' && body.length > 0) {
        const bad = Buffer.from(body)
        bad[Math.floor(bad.length / 2)] = (bad[Math.floor(bad.length / 2)] ?? 0) ^ 0xff
        proxy.bytesSent += bad.length
        res.end(bad)
        return
      }
      if (mode.kind === 'slow') {
        const chunk = Math.max(1, Math.floor(mode.bytesPerSecond / 10))
        for (let i = 0; i < body.length; i += chunk) {
          if (res.destroyed) return
          res.write(body.subarray(i, i + chunk))
          proxy.bytesSent += Math.min(chunk, body.length - i)
          await new Promise((r) => setTimeout(r, 100))
          if (proxy.mode.kind !== 'slow') {
            // Switched to fast mid-way: send the rest at once.
            res.end(body.subarray(i + chunk))
            proxy.bytesSent += Math.max(0, body.length - i - chunk)
            return
          }
        }
        res.end()
        return
      }
      proxy.bytesSent += body.length
      res.end(body)
    } catch (err) {
      res.writeHead(502)
      res.end(String(err))
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no address')
  Object.assign(proxy, {
    url: `http://127.0.0.1:${addr.port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  })
  return proxy
}
