import http from 'node:http'

import { sleep } from './wait.js'

export interface PacedResult {
  /** The response status, or `closed` when the server cut the connection before answering. */
  status: number | 'closed'
  body: string
  ms: number
}

/**
 * Tests only: a POST over real HTTP whose body is written `bytesPerTick` every `tickMs` (a phone on a slow link),
 * optionally stalling `stallMs` once a third is sent. Resolves with the answer, or `closed` when cut.
 */
export function pacedPost(
  url: string,
  o: {
    headers: Record<string, string>
    payload: Buffer
    bytesPerTick: number
    tickMs: number
    stallMs?: number
  },
): Promise<PacedResult> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { ...o.headers, 'content-length': String(o.payload.length) },
    })
    let settled = false
    const settle = (status: number | 'closed', body: string) => {
      if (settled) return
      settled = true
      resolve({ status, body, ms: performance.now() - t0 })
    }
    req.on('response', (res) => {
      let body = ''
      res.on('data', (d) => {
        body += d
      })
      res.on('end', () => settle(res.statusCode ?? 0, body))
      res.on('error', () => settle(res.statusCode ?? 0, body))
    })
    req.on('error', () => settle('closed', ''))
    void (async () => {
      let stalled = false
      for (let i = 0; i < o.payload.length && !req.destroyed; i += o.bytesPerTick) {
        req.write(o.payload.subarray(i, i + o.bytesPerTick))
        await sleep(o.tickMs)
        if (o.stallMs && !stalled && i > o.payload.length / 3) {
          stalled = true
          await sleep(o.stallMs)
        }
      }
      req.end()
    })()
  })
}
