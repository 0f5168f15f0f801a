import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeAudio, startTestPlane, type TestPlane, uploadMedia } from '../../test-kit/test-helpers.js'

let t: TestPlane
let wav: Buffer
let media: Record<string, unknown>
const tmpFiles = () => (fs.existsSync(path.join(t.dir, 'tmp')) ? fs.readdirSync(path.join(t.dir, 'tmp')) : [])

beforeAll(async () => {
  t = await startTestPlane({ maxUploadMb: 1 })
  wav = fs.readFileSync(makeAudio(t.dir, 'src.wav', { seconds: 2 }))
})
afterAll(async () => {
  await t?.close()
})

describe('media upload', () => {
  it('normalises and transcodes a WAV to Opus, content-addressed, with measured loudness', async () => {
    const r = await uploadMedia(t, wav, 'thong-bao.wav')
    expect(r.status).toBe(201)
    media = r.body
    expect(media.sha256).toMatch(/^[a-f0-9]{64}$/)
    expect(media).toMatchObject({ mime: 'audio/ogg', codec: 'opus', bitrateKbps: 32, deduplicated: false })
    expect(media.originalName).toBe('thong-bao.wav')
    expect(Math.abs((media.durationMs as number) - 2000)).toBeLessThan(150)
    const loud = media.loudness as Record<string, number>
    expect(loud.targetI).toBe(-16)
    // A full-scale-ish sine from ffmpeg's generator is far from -16 LUFS: the measurement must be real.
    expect(Number.isFinite(loud.inputI)).toBe(true)
    expect(loud.inputI).toBeLessThan(0)
    const stored = path.join(t.dir, 'media', media.sha256 as string)
    const bytes = fs.readFileSync(stored)
    expect(bytes.length).toBe(media.size)
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('OggS')
    expect(tmpFiles()).toEqual([])
  })

  it('returns the existing media on re-upload without transcoding again', async () => {
    const r = await uploadMedia(t, wav, 'again.wav')
    expect(r.status).toBe(201)
    expect(r.body.sha256).toBe(media.sha256)
    expect(r.body.deduplicated).toBe(true)
    const list = await t.api<{ media: { sha256: string }[] }>('GET', '/api/media')
    expect(list.body.media.filter((m) => m.sha256 === media.sha256)).toHaveLength(1)
  })

  it('refuses a file without audio with 422 and removes the temp file', async () => {
    const r = await uploadMedia(t, Buffer.from('this is not audio at all\n'.repeat(100)), 'notes.txt')
    expect(r.status).toBe(422)
    expect(r.body.code).toBe('LOA_MEDIA_NOT_AUDIO')
    expect(r.body.message).toMatch(/file/)
    expect(tmpFiles()).toEqual([])
  })

  it('refuses an oversized upload with 413', async () => {
    const r = await uploadMedia(t, Buffer.alloc(1024 * 1024 + 10, 1), 'huge.wav')
    expect(r.status).toBe(413)
    expect(r.body.code).toBe('LOA_MEDIA_TOO_LARGE')
    expect(tmpFiles()).toEqual([])
  })

  it('keeps a hostile file name as sanitised metadata only', async () => {
    const other = fs.readFileSync(makeAudio(t.dir, 'other.wav', { seconds: 1, freq: 660 }))
    const r = await uploadMedia(t, other, '../../etc/passwd\u0001\u0007x')
    expect(r.status).toBe(201)
    const name = r.body.originalName as string
    expect([...name].filter((ch) => ch.charCodeAt(0) < 32 || ch === '/' || ch === '\\')).toEqual([])
    expect(name).toContain('passwd')
    expect(fs.readdirSync(path.join(t.dir, 'media'))).toEqual(expect.arrayContaining([r.body.sha256]))
    expect(fs.existsSync(path.join(t.dir, 'etc'))).toBe(false)
  })
})

describe('media codec', () => {
  it('transcodes to MP3 when configured', async () => {
    const p = await startTestPlane({ mediaCodec: 'mp3', mediaBitrateKbps: 48 })
    try {
      const r = await uploadMedia(p, wav, 'x.wav')
      expect(r.status).toBe(201)
      expect(r.body).toMatchObject({ mime: 'audio/mpeg', codec: 'mp3', bitrateKbps: 48 })
      const bytes = fs.readFileSync(path.join(p.dir, 'media', r.body.sha256 as string))
      // An MP3 frame sync (or an ID3 header) at the start.
      expect(bytes[0] === 0xff || bytes.subarray(0, 3).toString('latin1') === 'ID3').toBe(true)
    } finally {
      await p.close()
    }
  })
})

describe('media download', () => {
  it('serves the whole file with ETag and immutable caching', async () => {
    const res = await t.cp.app.inject({
      method: 'GET',
      url: `/media/${media.sha256}`,
      headers: t.adminHeaders,
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers.etag).toBe(`"${media.sha256}"`)
    expect(res.headers['accept-ranges']).toBe('bytes')
    expect(res.headers['cache-control']).toMatch(/immutable/)
    expect(res.rawPayload.length).toBe(media.size)
    const again = await t.cp.app.inject({
      method: 'GET',
      url: `/media/${media.sha256}`,
      headers: { 'if-none-match': `"${media.sha256}"`, ...t.adminHeaders },
    })
    expect(again.statusCode).toBe(304)
  })

  it('answers Range requests with 206 and the exact bytes, 416 outside the file', async () => {
    const file = fs.readFileSync(path.join(t.dir, 'media', media.sha256 as string))
    const res = await fetch(`${t.cp.httpUrl}/media/${media.sha256}`, {
      headers: { range: 'bytes=10-99', ...t.adminHeaders },
    })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes 10-99/${file.length}`)
    expect(Buffer.from(await res.arrayBuffer()).equals(file.subarray(10, 100))).toBe(true)
    const suffix = await fetch(`${t.cp.httpUrl}/media/${media.sha256}`, {
      headers: { range: 'bytes=-16', ...t.adminHeaders },
    })
    expect(suffix.status).toBe(206)
    expect(Buffer.from(await suffix.arrayBuffer()).equals(file.subarray(file.length - 16))).toBe(true)
    const bad = await fetch(`${t.cp.httpUrl}/media/${media.sha256}`, {
      headers: { range: `bytes=${file.length}-`, ...t.adminHeaders },
    })
    expect(bad.status).toBe(416)
    expect(bad.headers.get('content-range')).toBe(`bytes */${file.length}`)
  })

  it('refuses anything but a known lower-case sha256', async () => {
    for (const url of [
      '/media/..%2F..%2Fetc%2Fpasswd',
      `/media/${'A'.repeat(64)}`,
      '/media/abc',
      '/media/../loa.db',
    ]) {
      const res = await t.cp.app.inject({ method: 'GET', url, headers: t.adminHeaders })
      // `/media/../loa.db` is `/loa.db`: a console page path when the console is built, never the database.
      if (res.statusCode === 200) expect(res.headers['content-type']).toMatch(/^text\/html/)
      else expect([400, 404]).toContain(res.statusCode)
      expect(res.body).not.toContain('SQLite')
    }
    const unknown = await t.cp.app.inject({
      method: 'GET',
      url: `/media/${'0'.repeat(64)}`,
      headers: t.adminHeaders,
    })
    expect(unknown.statusCode).toBe(404)
  })
})
