import fs from 'node:fs'
import path from 'node:path'
import { makeTone, type ToneOptions } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multipartBody, startTestPlane, type TestPlane, uploadMedia } from '../../test-kit/test-helpers.js'

/** Uploads are refused by what they are, before and during decoding, and a refusal leaves nothing behind. */

let t: TestPlane
const MAX_SECONDS = 60

/** A file made by ffmpeg (a sine, or another lavfi source such as `anullsrc=r=8000:cl=mono`), read and removed. */
function ffmpegMake(name: string, seconds: number, opts: ToneOptions = {}, hz = 440): Buffer {
  const file = makeTone(path.join(t.dir, name), seconds, hz, opts)
  const bytes = fs.readFileSync(file)
  fs.rmSync(file)
  return bytes
}

/** The audio bomb: an hour of silence, a few kilobytes of FLAC (large blocks of constant samples). */
const hourOfSilence = () =>
  ffmpegMake('bomb.flac', 3600, {
    source: 'anullsrc=r=8000:cl=mono',
    args: ['-c:a', 'flac', '-frame_size', '65535'],
  })

/** The same bomb with a header that lies: STREAMINFO's total-samples field says one second. */
function lyingHourOfSilence(): Buffer {
  const b = Buffer.from(hourOfSilence())
  expect(b.subarray(0, 4).toString('latin1')).toBe('fLaC')
  // STREAMINFO starts at byte 8; bytes 18–25 hold sample rate (20 bits), channels, bits and total samples (36).
  const packed = b.readBigUInt64BE(18)
  const sampleRate = Number(packed >> 44n)
  b.writeBigUInt64BE((packed & ~((1n << 36n) - 1n)) | BigInt(sampleRate), 18)
  return b
}

/** Nothing of a refused upload remains: no temp file, no media file, no media row. */
async function expectNothingLeft(before: { files: string[]; rows: number }): Promise<void> {
  const tmp = path.join(t.dir, 'tmp')
  expect(fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).toEqual([])
  expect(mediaFiles()).toEqual(before.files)
  expect(await mediaRows()).toBe(before.rows)
}
const mediaFiles = () => {
  const dir = path.join(t.dir, 'media')
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []
}
const mediaRows = async () => (await t.api<{ media: unknown[] }>('GET', '/api/media')).body.media.length
const snapshot = async () => ({ files: mediaFiles(), rows: await mediaRows() })

beforeAll(async () => {
  t = await startTestPlane({ maxMediaSeconds: MAX_SECONDS })
})
afterAll(async () => {
  await t?.close()
})

describe('upload limits', () => {
  it('refuses a FLAC audio bomb (an hour of silence in a few KB) by its declared length, leaving nothing', async () => {
    const bomb = hourOfSilence()
    expect(bomb.length).toBeLessThan(32 * 1024)
    const before = await snapshot()
    const r = await uploadMedia(t, bomb, 'bomb.flac')
    expect(r.status).toBe(413)
    expect(r.body.code).toBe('LOA_MEDIA_TOO_LONG')
    expect(r.body.message).toBe(`file: the audio declares 3600 s; at most ${MAX_SECONDS} s is accepted`)
    await expectNothingLeft(before)
  })

  it('refuses a bomb whose header claims one second, once decoding passes the limit', async () => {
    const bomb = lyingHourOfSilence()
    const before = await snapshot()
    const r = await uploadMedia(t, bomb, 'one-second.flac')
    expect(r.status).toBe(413)
    expect(r.body.code).toBe('LOA_MEDIA_TOO_LONG')
    // Decoding stopped a second past the limit: that is all the work the file got.
    expect(r.body.message).toBe(
      `file: the audio decodes to more than ${MAX_SECONDS + 1} s; at most ${MAX_SECONDS} s is accepted`,
    )
    await expectNothingLeft(before)
  })

  it('accepts a file exactly at the limit', async () => {
    const r = await uploadMedia(t, ffmpegMake('limit.flac', MAX_SECONDS, { sampleRate: 8000 }), 'limit.flac')
    expect(r.status).toBe(201)
    expect(Math.abs((r.body.durationMs as number) - MAX_SECONDS * 1000)).toBeLessThan(150)
  })

  it.each([
    ['16 channels', ['-ac', '16'], /^file: 16 audio channels; 1 to 8 are accepted$/],
    ['4 kHz', ['-ar', '4000'], /^file: sample rate 4000 Hz; 8000 to 192000 Hz is accepted$/],
    ['384 kHz', ['-ar', '384000'], /^file: sample rate 384000 Hz; 8000 to 192000 Hz is accepted$/],
  ])('refuses audio with %s before decoding it, leaving nothing', async (_what, args, message) => {
    const wav = ffmpegMake('odd.wav', 1, { args })
    const before = await snapshot()
    const r = await uploadMedia(t, wav, 'odd.wav')
    expect(r.status).toBe(422)
    expect(r.body.code).toBe('LOA_MEDIA_UNSUPPORTED')
    expect(r.body.message).toMatch(message)
    await expectNothingLeft(before)
  })
})

describe('alert audio', () => {
  it("is held to the alert lane's shorter length, so no alert job can hold a slot for long", async () => {
    const p = await startTestPlane({ maxMediaSeconds: 600, maxAlertMediaSeconds: 30 })
    try {
      const twoMinutes = ffmpegMake('long-siren.flac', 120, { sampleRate: 8000 }, 900)
      const { payload, headers } = multipartBody('file', 'long-siren.flac', twoMinutes)
      const res = await p.cp.app.inject({
        method: 'POST',
        url: '/api/alerts/media',
        payload,
        headers: { ...headers, ...p.adminHeaders },
      })
      expect(res.statusCode).toBe(413)
      expect(JSON.parse(res.body)).toMatchObject({
        code: 'LOA_MEDIA_TOO_LONG',
        message: 'file: the audio declares 120 s; at most 30 s is accepted',
      })
      // The same file is an ordinary bulletin's upload: the ordinary limit applies there.
      expect((await uploadMedia(p, twoMinutes, 'long-siren.flac')).status).toBe(201)
    } finally {
      await p.close()
    }
  })
})

describe('CPU budget', () => {
  it('stops a transcode that needs more CPU than a media process may use, and refuses the file', async () => {
    const p = await startTestPlane({ mediaCpuSeconds: 0.2 })
    try {
      // Five minutes of noise: measuring its loudness (upsampled to 192 kHz for the true peak) takes seconds.
      const noise = ffmpegMake('noise.flac', 300, {
        source: 'anoisesrc=r=8000:d=300',
        args: ['-c:a', 'flac'],
      })
      const r = await uploadMedia(p, noise, 'noise.flac')
      expect(r.status).toBe(422)
      expect(r.body.code).toBe('LOA_MEDIA_TOO_COSTLY')
      expect(r.body.message).toMatch(/^file: measuring its loudness took more CPU than a media file may use$/)
      const tmp = path.join(p.dir, 'tmp')
      expect(fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).toEqual([])
      expect((await p.api<{ media: unknown[] }>('GET', '/api/media')).body.media).toEqual([])
    } finally {
      await p.close()
    }
  })
})
