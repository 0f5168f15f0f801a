import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'
import { CloudTtsEngine, cloudEnginesFromEnv } from './cloud.js'
import { EspeakEngine } from './speech.js'

/** A local stand-in for a domestic vendor: checks the key, answers with a link that becomes ready later. */
function vendorServer(wav: Buffer) {
  const seen: { text: string; voice: string; key: string | undefined }[] = []
  let polls = 0
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/v1/tts') {
      let body = ''
      req.on('data', (d) => {
        body += d
      })
      req.on('end', () => {
        const key = req.headers['api-key'] as string | undefined
        const j = JSON.parse(body) as { text: string; voice: string; speed?: string }
        seen.push({ text: j.text, voice: j.voice, key })
        if (key !== 'k-secret-123') {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad key k-secret-123"}')
          return
        }
        if (j.voice === 'direct') {
          res.writeHead(200, { 'content-type': 'audio/wav' }).end(wav)
          return
        }
        const { port } = server.address() as AddressInfo
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: 0, async: `http://127.0.0.1:${port}/files/out.wav` }))
      })
      return
    }
    if (req.url === '/files/out.wav') {
      // Not ready on the first poll, as with asynchronous vendors.
      if (polls++ === 0) res.writeHead(404).end()
      else res.writeHead(200, { 'content-type': 'audio/x-wav' }).end(wav)
      return
    }
    res.writeHead(404).end()
  })
  return { server, seen }
}

let t: TestPlane
let vendor: ReturnType<typeof vendorServer>
let vendorUrl: string

beforeAll(async () => {
  const dir = fs.mkdtempSync('/tmp/loa-tts-')
  const wavFile = `${dir}/v.wav`
  const r = spawnSync('espeak-ng', ['-v', 'vi', '-w', wavFile, 'xin chào'])
  if (r.status !== 0) throw new Error('espeak-ng failed')
  vendor = vendorServer(fs.readFileSync(wavFile))
  fs.rmSync(dir, { recursive: true, force: true })
  await new Promise<void>((resolve) => vendor.server.listen(0, '127.0.0.1', resolve))
  vendorUrl = `http://127.0.0.1:${(vendor.server.address() as AddressInfo).port}/v1/tts`
  const cloud = new CloudTtsEngine({
    id: 'vendor',
    name: 'Vendor AI',
    url: vendorUrl,
    apiKey: 'k-secret-123',
    voices: [
      { id: 'banmai', name: 'Ban Mai', region: 'north' },
      { id: 'lannhi', name: 'Lan Nhi', region: 'south' },
      { id: 'direct', name: 'Direct', region: null },
    ],
    extra: { speed: '0' },
    timeoutMs: 20_000,
  })
  t = await startTestPlane({ ttsEngines: [new EspeakEngine(), cloud] })
  expect((await t.api('POST', '/api/units', { id: 'xa', name: 'Xã', kind: 'commune' })).status).toBe(201)
})
afterAll(async () => {
  await t?.close()
  vendor?.server.close()
})

describe('text-to-speech API', () => {
  it('lists espeak-ng voices for the three regions and the cloud voices', async () => {
    const r = await t.api<{
      voices: { id: string; region: string | null; default: boolean }[]
      defaultVoice: string
    }>('GET', '/api/tts/voices')
    expect(r.status).toBe(200)
    const byId = new Map(r.body.voices.map((v) => [v.id, v]))
    expect(byId.get('espeak-ng:vi')?.region).toBe('north')
    expect(byId.get('espeak-ng:vi-vn-x-central')?.region).toBe('central')
    expect(byId.get('espeak-ng:vi-vn-x-south')?.region).toBe('south')
    expect(byId.get('vendor:banmai')).toBeDefined()
    expect(r.body.defaultVoice).toBe('espeak-ng:vi')
    expect(r.body.voices.filter((v) => v.default).map((v) => v.id)).toEqual(['espeak-ng:vi'])
  })

  it('normalises in the voice region wording', async () => {
    const north = await t.api<{ normalizedText: string }>('POST', '/api/tts/normalize', { text: '105 người' })
    expect(north.body.normalizedText).toBe('một trăm linh năm người')
    const south = await t.api<{ normalizedText: string }>('POST', '/api/tts/normalize', {
      text: '105 người',
      voice: 'espeak-ng:vi-vn-x-south',
    })
    expect(south.body.normalizedText).toBe('một trăm lẻ năm người')
  })

  it('previews as WAV with the normalised text in a header, or as JSON', async () => {
    const res = await t.cp.app.inject({
      method: 'POST',
      url: '/api/tts/preview',
      headers: t.adminHeaders,
      payload: { text: 'UBND xã thông báo lúc 7h30', voice: 'espeak-ng:vi-vn-x-central' },
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^audio\/wav/)
    expect(res.rawPayload.subarray(0, 4).toString('latin1')).toBe('RIFF')
    expect(res.rawPayload.length).toBeGreaterThan(10_000)
    expect(decodeURIComponent(res.headers['x-loa-normalized-text'] as string)).toBe(
      'ủy ban nhân dân xã thông báo lúc bảy giờ ba mươi phút',
    )
    expect(res.headers['x-loa-voice']).toBe('espeak-ng:vi-vn-x-central')
    const j = await t.api<{ mime: string; audioBase64: string; normalizedText: string }>(
      'POST',
      '/api/tts/preview?format=json',
      { text: '21' },
    )
    expect(j.body.mime).toBe('audio/wav')
    expect(j.body.normalizedText).toBe('hai mươi mốt')
    expect(Buffer.from(j.body.audioBase64, 'base64').subarray(0, 4).toString('latin1')).toBe('RIFF')
  })

  it('refuses unknown voices and empty or too long text', async () => {
    const unknown = await t.api<{ code: string; message: string }>('POST', '/api/tts/preview', {
      text: 'a',
      voice: 'nope',
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.code).toBe('LOA_TTS_INVALID')
    expect(unknown.body.message).toMatch(/^voice:/)
    expect((await t.api('POST', '/api/tts/preview', { text: '' })).status).toBe(400)
    expect((await t.api('POST', '/api/tts/preview', { text: 'a'.repeat(4001) })).status).toBe(400)
    expect((await t.api('POST', '/api/tts/preview', { text: '   ' })).status).toBe(400)
  })

  it('makes a bulletin through the media pipeline', async () => {
    const r = await t.api<{
      bulletin: {
        id: string
        text: string
        voice: string
        status: string
        unitId: string
        mediaSha256: string
      }
      media: { sha256: string; durationMs: number; codec: string }
      normalizedText: string
    }>('POST', '/api/tts/bulletins', {
      text: 'Thông báo: ngày 25/12 cắt điện từ 7-9 giờ.',
      title: 'Cắt điện',
      unitId: 'xa',
      voice: 'espeak-ng:vi-vn-x-south',
    })
    expect(r.status).toBe(201)
    expect(r.body.normalizedText).toBe(
      'Thông báo: ngày hai mươi lăm tháng mười hai cắt điện từ bảy đến chín giờ.',
    )
    expect(r.body.media.codec).toBe('opus')
    expect(r.body.media.durationMs).toBeGreaterThan(1000)
    expect(r.body.bulletin).toMatchObject({
      text: 'Thông báo: ngày 25/12 cắt điện từ 7-9 giờ.',
      voice: 'espeak-ng:vi-vn-x-south',
      status: 'approved',
      unitId: 'xa',
      mediaSha256: r.body.media.sha256,
    })
    const file = await t.cp.app.inject({
      method: 'GET',
      url: `/media/${r.body.media.sha256}`,
      headers: t.adminHeaders,
    })
    expect(file.statusCode).toBe(200)
    expect(file.rawPayload.subarray(0, 4).toString('latin1')).toBe('OggS')
  })
})

describe('cloud engine adapter', () => {
  it('sends the normalised text with the key and fetches the audio when it is ready', async () => {
    const before = vendor.seen.length
    const r = await t.api<{ media: { durationMs: number }; bulletin: { voice: string } }>(
      'POST',
      '/api/tts/bulletins',
      { text: '21 hộ dân', title: 'Cloud', voice: 'vendor:banmai' },
    )
    expect(r.status).toBe(201)
    expect(r.body.bulletin.voice).toBe('vendor:banmai')
    expect(r.body.media.durationMs).toBeGreaterThan(300)
    expect(vendor.seen.slice(before)).toEqual([
      { text: 'hai mươi mốt hộ dân', voice: 'banmai', key: 'k-secret-123' },
    ])
  })

  it('accepts audio in the answer itself', async () => {
    const res = await t.cp.app.inject({
      method: 'POST',
      url: '/api/tts/preview',
      headers: t.adminHeaders,
      payload: { text: 'xin chào', voice: 'vendor:direct' },
    })
    expect(res.statusCode).toBe(200)
    expect(res.rawPayload.subarray(0, 4).toString('latin1')).toBe('RIFF')
  })

  it('reports a vendor failure without leaking the key', async () => {
    const bad = new CloudTtsEngine({
      id: 'bad',
      name: 'Bad key',
      url: vendorUrl,
      apiKey: 'wrong-key-xyz',
      voices: [{ id: 'banmai', name: 'Ban Mai', region: 'north' }],
    })
    const err = await bad.synthesize('a', '/tmp/never.wav', { voice: 'banmai' }).catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error & { code: string }).code).toBe('LOA_TTS_FAILED')
    expect((err as Error).message).toMatch(/HTTP 401/)
    expect((err as Error).message).not.toMatch(/wrong-key-xyz|k-secret/)
    const down = new CloudTtsEngine({
      id: 'down',
      name: 'Down',
      url: 'http://127.0.0.1:1/tts',
      apiKey: 'x',
      voices: [{ id: 'v', name: 'V', region: null }],
      timeoutMs: 3000,
    })
    const e2 = await down.synthesize('a', '/tmp/never.wav').catch((e: Error) => e)
    expect((e2 as Error & { code: string }).code).toBe('LOA_TTS_FAILED')
  })
})

describe('cloud engine configuration', () => {
  it('reads LOA_TTS_CLOUD, taking the key from another variable, and refuses what cannot work', () => {
    const engines = cloudEnginesFromEnv({
      LOA_TTS_CLOUD: JSON.stringify({
        id: 'fpt',
        name: 'FPT.AI',
        url: 'https://tts.example.vn/v5',
        apiKeyEnv: 'FPT_KEY',
        voices: [{ id: 'banmai', name: 'Ban Mai', region: 'north' }],
      }),
      FPT_KEY: 'k',
    })
    expect(engines.map((e) => [e.id, e.voices.map((v) => v.id)])).toEqual([['fpt', ['banmai']]])
    expect(cloudEnginesFromEnv({})).toEqual([])
    expect(() => cloudEnginesFromEnv({ LOA_TTS_CLOUD: '{nope' })).toThrow(/LOA_TTS_CLOUD: not valid JSON/)
    const noKey = JSON.stringify({
      id: 'x',
      name: 'X',
      url: 'https://a.vn',
      voices: [{ id: 'v', name: 'V', region: null }],
    })
    expect(() => cloudEnginesFromEnv({ LOA_TTS_CLOUD: noKey })).toThrow(/no apiKey/)
    const badUrl = JSON.stringify({
      id: 'x',
      name: 'X',
      url: 'file:///etc/passwd',
      apiKey: 'k',
      voices: [{ id: 'v', name: 'V', region: null }],
    })
    expect(() => cloudEnginesFromEnv({ LOA_TTS_CLOUD: badUrl })).toThrow(/http/)
  })
})
