import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentCap, seedCommuneA } from '../../test-kit/media.js'
import { makeAudio, multipartBody, startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

/**
 * A large upload shares the event loop with `/healthz` and with alerts: the control plane keeps answering while a
 * 15 MB upload streams in and while it is processed (real HTTP, real ffmpeg).
 */

let t: TestPlane

interface SlowUpload {
  /** Sends what is left and resolves with the answer. */
  finish(): Promise<{ status: number; body: Record<string, unknown> }>
  answered(): boolean
}

/** Starts a POST and sends all of `body` but its last `held` bytes, resolving once those are written. */
async function startUpload(url: string, headers: Record<string, string>, body: Buffer, held = 64 * 1024) {
  const u = new URL(url, t.cp.httpUrl)
  const req = http.request(u, {
    method: 'POST',
    headers: { ...headers, ...t.adminHeaders, 'content-length': String(body.length) },
  })
  let answered = false
  const response = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    req.on('response', (res) => {
      answered = true
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
      )
    })
    req.on('error', reject)
  })
  const head = body.subarray(0, body.length - held)
  for (let i = 0; i < head.length; i += 256 * 1024) {
    if (!req.write(head.subarray(i, i + 256 * 1024))) await new Promise((r) => req.once('drain', r))
  }
  const upload: SlowUpload = {
    answered: () => answered,
    finish: () => {
      req.end(body.subarray(body.length - held))
      return response
    },
  }
  return upload
}

const healthz = async () => {
  const r = await fetch(`${t.cp.httpUrl}/healthz`)
  return { status: r.status, body: (await r.json()) as Record<string, unknown> }
}

let wav: Buffer

beforeAll(async () => {
  t = await startTestPlane()
  await seedCommuneA(t)
  // About 15 MB of real audio (three minutes of 44.1 kHz mono), and about 15 MB of CAP around 11 MB of it.
  wav = fs.readFileSync(makeAudio(t.dir, 'bulletin.wav', { seconds: 170, freq: 520 }))
})
afterAll(async () => {
  await t?.close()
})

describe('the event loop during a large upload', () => {
  it('answers /healthz while a 15 MB media upload is still arriving and while it is transcoded', async () => {
    expect(wav.length).toBeGreaterThan(14 * 1024 * 1024)
    const { payload, headers } = multipartBody('file', 'bulletin.wav', wav, 'audio/wav')
    const upload = await startUpload('/api/media', headers, payload)
    expect((await healthz()).status).toBe(200)
    expect(upload.answered()).toBe(false)
    const done = upload.finish()
    // Once the whole file is in, it is transcoded: /healthz is still answered first.
    expect((await healthz()).status).toBe(200)
    expect(upload.answered()).toBe(false)
    expect((await done).status).toBe(201)
    expect(fs.readdirSync(path.join(t.dir, 'tmp'))).toEqual([])
  })

  it('answers /healthz while a 15 MB CAP document with inline audio arrives and is processed', async () => {
    const xml = currentCap('VN-KTTV-BIG-0001', wav.subarray(0, 11 * 1024 * 1024 + 44).toString('base64'))
    expect(xml.length).toBeGreaterThan(15_000_000)
    const upload = await startUpload('/api/cap', { 'content-type': 'application/cap+xml' }, Buffer.from(xml))
    expect((await healthz()).status).toBe(200)
    expect(upload.answered()).toBe(false)
    const done = upload.finish()
    expect((await healthz()).status).toBe(200)
    expect(upload.answered()).toBe(false)
    expect(await done).toMatchObject({
      status: 201,
      body: { action: 'raised', media: { synthesized: false } },
    })
  })
})
