import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { waitFor } from '@loa/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { makeWebm } from '../../../test-kit/mic.js'
import { MicStream } from './stream.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-mic-stream-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('microphone fan-out', { timeout: 60_000 }, () => {
  it('drops a listener that stops reading instead of buffering for it; the others go on', async () => {
    let exited: string | null | undefined
    // The highest MP3 bitrate at 24 kHz and a tiny backlog allowance, so a stalled TCP window shows within a second or two.
    const stream = new MicStream({ bitrateKbps: 160, maxBacklogBytes: 1000, maxListeners: 10 }, (p) => {
      exited = p
    })
    const responses: http.ServerResponse[] = []
    const server = http.createServer((_req, res) => {
      responses.push(res)
      res.writeHead(200, { 'content-type': 'audio/mpeg' })
      res.flushHeaders()
      stream.listen(res)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    let readBytes = 0
    const get = (onRes: (res: http.IncomingMessage) => void) =>
      new Promise<void>((resolve) =>
        http.get(url, (res) => {
          onRes(res)
          resolve()
        }),
      )
    await get((res) => res.on('data', (d: Buffer) => (readBytes += d.length)))
    await get((res) => {
      res.pause() // never reads: its TCP window fills
    })
    await waitFor(() => stream.listenerCount === 2, 10_000, 'both listening')

    // Faster than real time: ffmpeg turns 8 min of speech into ~9.6 MB of MP3 at once, more than the kernel's
    // socket buffers (up to 4 MB sending + the receiver's window) can hide.
    stream.write(fs.readFileSync(makeWebm(dir, 'long.webm', { seconds: 480 })))
    await waitFor(() => stream.listenerCount === 1, 30_000, 'the stalled listener dropped')
    // Its connection is destroyed on our side (no memory kept for it); the reading one is untouched.
    expect(responses[1]?.destroyed).toBe(true)
    expect(responses[0]?.destroyed).toBe(false)
    await waitFor(() => readBytes > 8_000_000, 30_000, 'the reading listener still fed')
    expect(exited).toBeUndefined()

    await stream.close()
    expect(exited).toBeNull() // killed on purpose: not a problem
    await new Promise<void>((r) => server.close(() => r()))
  })
})
