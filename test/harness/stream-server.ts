import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, type ServerResponse } from 'node:http'

export interface StreamServer {
  readonly url: string
  /** Clients currently connected. */
  listeners(): number
  /** Kills the source and drops every listener (the port stays open and answers 503). */
  kill(): void
  /** Starts the source again. */
  revive(): void
  close(): Promise<void>
}

/**
 * A local live station for tests: one real ffmpeg encodes a tone to MP3 in real time, and a small HTTP server
 * sends the same stream to every listener (as Icecast would). `kill()` makes the source disappear.
 */
export async function startStreamServer(hz = 500): Promise<StreamServer> {
  const clients = new Set<ServerResponse>()
  let source: ChildProcess | null = null
  const startSource = () => {
    const ff = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-re',
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=${hz}`,
        '-ac',
        '1',
        '-c:a',
        'libmp3lame',
        '-b:a',
        '48k',
        '-f',
        'mp3',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
    ff.stdout?.on('data', (chunk: Buffer) => {
      for (const c of clients) c.write(chunk)
    })
    source = ff
  }
  const server = createServer((req, res) => {
    if (source === null || req.url !== '/live.mp3') {
      res.writeHead(source === null ? 503 : 404)
      res.end()
      return
    }
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'cache-control': 'no-cache' })
    clients.add(res)
    req.on('close', () => clients.delete(res))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no address')
  startSource()
  const kill = () => {
    source?.kill('SIGKILL')
    source = null
    for (const c of clients) c.destroy()
    clients.clear()
  }
  return {
    url: `http://127.0.0.1:${addr.port}/live.mp3`,
    listeners: () => clients.size,
    kill,
    revive: () => {
      if (source === null) startSource()
    },
    close: () =>
      new Promise<void>((resolve) => {
        kill()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
