import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { capSample, currentCap, seedCommuneA, withAudioResource } from '../../../test-kit/media.js'
import { makeAudio, startTestPlane, type TestPlane, uploadMedia } from '../../../test-kit/test-helpers.js'
import { decodeBase64, liftInlineAudio, parseCapWithInlineAudio } from './inline-audio.js'
import { type CapAlert, parseCap } from './parse.js'

/** The length of every document the XML reader is given (the real reader runs). */
const reader = vi.hoisted(() => ({ given: [] as number[] }))
vi.mock('./xml.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./xml.js')>()
  return {
    ...real,
    readXml: (src: string, limits: import('./xml.js').XmlLimits) => {
      reader.given.push(src.length)
      return real.readXml(src, limits)
    },
  }
})

const sample = capSample()
const withResource = withAudioResource

const base64Of = (bytes: number, seed = 7) => Buffer.alloc(bytes, seed).toString('base64')
/** Base64 as mail and XML tools write it: 76 characters a line. */
const wrapped = (b64: string) => b64.replace(/(.{76})/g, '$1\n')

describe('lifting inline audio out of a CAP document', () => {
  it('hands the XML parser the document without its 15 MB of inline audio', () => {
    const audio = base64Of(11 * 1024 * 1024)
    const lifted = liftInlineAudio(withResource(sample, audio))
    expect(lifted.xml.length).toBeLessThan(sample.length + 1000)
    expect([...lifted.blobs.values()]).toEqual([audio])
  })

  it.each([
    ['a plain resource', withResource(sample, base64Of(200_000))],
    ['base64 in 76-character lines', withResource(sample, wrapped(base64Of(200_000)))],
    [
      'a namespace prefix',
      withResource(sample, base64Of(200_000))
        .replace(
          '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">',
          '<cap:alert xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2">',
        )
        .replace('</alert>', '</cap:alert>')
        .replace(/<(\/?)(?!cap:|\?|!)([A-Za-z]+)/g, '<$1cap:$2'),
    ],
    [
      'two resources',
      withResource(
        sample,
        base64Of(100_000, 1),
        `<resource><resourceDesc>Hai</resourceDesc><mimeType>audio/wav</mimeType><derefUri>${base64Of(50_000, 2)}</derefUri></resource>`,
      ),
    ],
    ['a small resource (left to the parser)', withResource(sample, base64Of(100))],
    ['an entity in the content (left to the parser)', withResource(sample, `${base64Of(10_000)}&#65;`)],
    [
      'a commented-out resource',
      withResource(sample, base64Of(100_000), `<!-- <derefUri>${base64Of(10_000, 3)}</derefUri> -->`),
    ],
    [
      'text that only looks like a resource, in CDATA',
      sample.replace(
        'Lũ quét đang xảy ra tại xã A.',
        `<![CDATA[Lũ quét <derefUri>${base64Of(10_000, 4)}</derefUri> tại xã A.]]>`,
      ),
    ],
  ])('gives exactly what parsing the whole document gives: %s', (_what, xml) => {
    expect(withoutLineBreaks(parseCapWithInlineAudio(xml))).toEqual(parseCap(xml))
  })
})

/** The parser strips whitespace from every derefUri; lifted ones keep theirs until decodeBase64. */
const withoutLineBreaks = (cap: CapAlert): CapAlert => ({
  ...cap,
  info: cap.info.map((i) => ({
    ...i,
    resources: i.resources.map((r) => ({ ...r, derefUri: r.derefUri?.replace(/\s+/g, '') ?? null })),
  })),
})

describe('decoding inline audio', () => {
  const bytes = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 2 }, (_, i) => (i * 7919) % 256))

  it('decodes base64 in lines, across its megabyte chunks, to the exact bytes', async () => {
    expect((await decodeBase64(wrapped(bytes.toString('base64'))))?.equals(bytes)).toBe(true)
    expect((await decodeBase64(`\n  ${bytes.toString('base64')}\n\n`))?.equals(bytes)).toBe(true)
    expect((await decodeBase64(bytes.toString('base64').replace(/=+$/, '')))?.equals(bytes)).toBe(true)
  })

  it.each([
    ['a character outside base64', `${'QUJD'.repeat(1000)}*QUJD`],
    ['padding in the middle', `QUJD=${'QUJD'.repeat(300_000)}`],
    ['data after the padding, past a chunk', `${'QUJD'.repeat(300_000)}QQ==${' '.repeat(2_000_000)}QUJD`],
    ['three padding characters', 'QQ==='],
    ['nothing', ' \n '],
  ])('refuses %s', async (_what, text) => {
    expect(await decodeBase64(text)).toBeNull()
  })

  it('lets the event loop through between megabytes', async () => {
    // Counts event-loop turns: each turn runs the check phase once, and with it this immediate.
    let turns = 0
    let counting = true
    const count = () => {
      turns++
      if (counting) setImmediate(count)
    }
    setImmediate(count)
    const text = base64Of(12 * 1024 * 1024)
    await decodeBase64(text)
    counting = false
    // A turn between every two megabytes of text: the decoder never holds the loop for the whole document.
    expect(turns).toBeGreaterThanOrEqual(Math.ceil(text.length / (1 << 20)) - 1)
  })
})

describe('a CAP alert with 15 MB of inline audio', () => {
  let t: TestPlane
  beforeAll(async () => {
    t = await startTestPlane()
    await seedCommuneA(t)
  })
  afterAll(async () => {
    await t?.close()
  })

  it('plays exactly the audio it carried, and the XML parser never sees that audio', async () => {
    const wav = fs.readFileSync(makeAudio(t.dir, 'canh-bao.wav', { seconds: 128, freq: 700 }))
    expect(wav.length).toBeGreaterThan(10 * 1024 * 1024)
    // The same bytes uploaded directly: the pipeline names media by the source's hash, so the CAP alert gets the
    // same media only if the audio it carried came through byte for byte.
    const direct = await uploadMedia(t, wav, 'canh-bao.wav')
    expect(direct.status).toBe(201)
    const xml = currentCap('VN-KTTV-INLINE-0001', wrapped(wav.toString('base64')))
    expect(xml.length).toBeGreaterThan(15_000_000)
    // What the XML reader is given is what it holds the event loop for, in one synchronous pass.
    reader.given.length = 0
    const res = await t.cp.app.inject({
      method: 'POST',
      url: '/api/cap',
      payload: xml,
      headers: { 'content-type': 'application/cap+xml', ...t.adminHeaders },
    })
    expect(res.statusCode).toBe(201)
    expect(JSON.parse(res.body)).toMatchObject({
      action: 'raised',
      media: { sha256: direct.body.sha256, synthesized: false },
    })
    expect(reader.given.length).toBeGreaterThan(0)
    expect(Math.max(...reader.given)).toBeLessThan(sample.length + 1000)
  })
})
