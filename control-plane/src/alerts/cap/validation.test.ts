import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capTime, capXml, dated, postCap, sample } from '../../../test-kit/cap.js'
import { seedTree, startTestPlane, type TestPlane } from '../../../test-kit/test-helpers.js'
import { capInstant } from './dates.js'
import { parseCap } from './parse.js'
import { CAP_NS } from './schema.js'

/**
 * Malformed CAP over the real HTTP endpoint: every one is a 4xx naming the problem, nothing is raised. Valid
 * documents are dated from the clock.
 */
let t: TestPlane
const now = Date.now()
let n = 0
const fresh = () =>
  dated(sample('actual.xml'), { sent: now, identifier: `VN-VALID-${++n}` }).replace('>19753<', '>xa-a<')
const alertCount = async () => (await t.api<{ alerts: unknown[] }>('GET', '/api/alerts')).body.alerts.length

beforeAll(async () => {
  t = await startTestPlane()
  await seedTree(t)
})
afterAll(async () => {
  await t?.close()
})

const refused: [string, () => string, number, string, RegExp][] = [
  // The namespace is the root element's, not a string somewhere in the text.
  [
    'a CAP 1.1 document with the 1.2 URN in a comment',
    () => fresh().replace('cap:1.2">', `cap:1.1"><!-- ${CAP_NS} -->`),
    422,
    'LOA_CAP_UNSUPPORTED',
    /^alert: namespace must be urn:oasis:names:tc:emergency:cap:1\.2, got urn:oasis:names:tc:emergency:cap:1\.1/,
  ],
  [
    'a root without a namespace, the 1.2 URN declared for an unused prefix',
    () => fresh().replace(`<alert xmlns="${CAP_NS}">`, `<alert xmlns:c="${CAP_NS}">`),
    400,
    'LOA_CAP_INVALID',
    /^alert: the root element must be <alert> in the namespace urn:oasis:names:tc:emergency:cap:1\.2/,
  ],
  [
    'children in another namespace under a 1.2 root',
    () => fresh().replace('<identifier>', '<identifier xmlns="urn:oasis:names:tc:emergency:cap:1.1">'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/identifier: unexpected element in namespace urn:oasis:names:tc:emergency:cap:1\.1/,
  ],
  [
    'an unknown root',
    () => `<feed xmlns="${CAP_NS}"/>`,
    400,
    'LOA_CAP_INVALID',
    /^feed: the root element must be <alert>/,
  ],
  // Dates are checked against the calendar, never rolled over.
  ...(
    [
      ['2027-02-30T08:00:00+07:00', /2027-02 has no day 30/],
      ['2027-02-29T08:00:00+07:00', /2027-02 has no day 29/],
      ['2027-04-31T08:00:00+07:00', /2027-04 has no day 31/],
      ['2027-13-01T08:00:00+07:00', /month 13 does not exist/],
      ['2027-01-01T24:00:00+07:00', /hour 24 does not exist/],
      ['2027-01-01T08:60:00+07:00', /minute 60 does not exist/],
      ['2027-01-01T08:00:60+07:00', /second 60 does not exist/],
      ['2027-01-01T08:00:00+15:00', /offset \+15:00 does not exist/],
      ['2027-01-01T08:00:00', /expected a date-time with offset/],
      ['2027-01-01', /expected a date-time with offset/],
      ['0000-01-01T00:00:00+00:00', /year 0000 does not exist/],
    ] as const
  ).map(([date, problem]): [string, () => string, number, string, RegExp] => [
    `sent ${date}`,
    () => fresh().replace(/<sent>[^<]*<\/sent>/, `<sent>${date}</sent>`),
    400,
    'LOA_CAP_INVALID',
    new RegExp(`^alert/sent: ${problem.source}`),
  ]),
  [
    'an impossible expires',
    () => fresh().replace(/<expires>[^<]*<\/expires>/, '<expires>2027-02-30T00:00:00+07:00</expires>'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/expires: 2027-02 has no day 30/,
  ],
  [
    'an impossible date in references',
    () =>
      capXml({ identifier: 'VN-REF-DATE', sent: now, msgType: 'Cancel', refs: [['x', now]] }).replace(
        /,x,[^<]*</,
        ',x,2027-02-30T08:00:00+07:00<',
      ),
    400,
    'LOA_CAP_INVALID',
    /^alert\/references\/0: 2027-02 has no day 30/,
  ],
  [
    'expires before sent',
    () => fresh().replace(/<expires>[^<]*<\/expires>/, `<expires>${capTime(now - 60_000)}</expires>`),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/expires: .* is not after sent/,
  ],
  // Hostile XML: refused quickly, before anything is built from it.
  [
    '100,000 nested elements',
    () => fresh().replace('<scope>', `${'<x>'.repeat(100_000)}${'</x>'.repeat(100_000)}<scope>`),
    400,
    'LOA_CAP_INVALID',
    /^xml: elements nested more than 16 deep/,
  ],
  [
    '100,000 nested CAP elements',
    () => fresh().replace('<area>', `${'<area>'.repeat(100_000)}`),
    400,
    'LOA_CAP_INVALID',
    /^xml: elements nested more than 16 deep/,
  ],
  [
    '30,000 elements',
    () => fresh().replace('<scope>', `${'<code>c</code>'.repeat(30_000)}<scope>`),
    400,
    'LOA_CAP_INVALID',
    /^xml: more than 20000 elements/,
  ],
  [
    '200,000 entity references',
    () => fresh().replace('Lũ quét</event>', `${'&amp;'.repeat(200_000)}</event>`),
    400,
    'LOA_CAP_INVALID',
    /^xml: more than 100000 entity or character references/,
  ],
  [
    'billion laughs',
    () =>
      `<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${fresh()
        .replace(/^<\?xml[^>]*>/, '')
        .replace('Lũ quét</event>', '&b;</event>')}`,
    400,
    'LOA_CAP_INVALID',
    /^xml: a DOCTYPE is not allowed/,
  ],
  [
    'an external entity (XXE)',
    () =>
      `<!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>${fresh()
        .replace(/^<\?xml[^>]*>/, '')
        .replace('Lũ quét</event>', '&x;</event>')}`,
    400,
    'LOA_CAP_INVALID',
    /^xml: a DOCTYPE is not allowed/,
  ],
  [
    'an undefined entity without a DOCTYPE',
    () => fresh().replace('Lũ quét</event>', '&x;</event>'),
    400,
    'LOA_CAP_INVALID',
    /^xml: not well-formed: undefined entity &x;/,
  ],
  [
    'a control character',
    () => fresh().replace('Lũ quét</event>', 'Lũ\u0007</event>'),
    400,
    'LOA_CAP_INVALID',
    /^xml: not well-formed: character U\+0007 is not allowed in XML \(line \d+, column \d+\)/,
  ],
  [
    'an encoding other than UTF-8',
    () => fresh().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'),
    400,
    'LOA_CAP_INVALID',
    /^xml: encoding ISO-8859-1 is not supported: send UTF-8/,
  ],
  [
    'mismatched tags',
    () => fresh().replace('</event>', '</evnt>'),
    400,
    'LOA_CAP_INVALID',
    /^xml: not well-formed: end tag <\/evnt> does not match <event>/,
  ],
  [
    'a second root',
    () => `${fresh()}<alert xmlns="${CAP_NS}"/>`,
    400,
    'LOA_CAP_INVALID',
    /^xml: not well-formed: only one root element is allowed/,
  ],
  // The structure of CAP-v1.2.xsd.
  [
    'elements out of the schema order',
    () => fresh().replace(/(<msgType>Alert<\/msgType>)(\s*)(<scope>Public<\/scope>)/, '$3$2$1'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/msgType: out of order: CAP 1\.2 puts <msgType> before <scope>/,
  ],
  [
    'an unknown element',
    () => fresh().replace('<scope>', '<priority>1</priority><scope>'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/priority: unexpected element \(CAP 1\.2 has no <priority> here\)/,
  ],
  [
    'a repeated element',
    () => fresh().replace('<status>', '<status>Test</status><status>'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/status: may appear only once/,
  ],
  [
    'elements inside a text element',
    () => fresh().replace('Lũ quét</event>', '<b>Lũ quét</b></event>'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/event: expected text, not elements/,
  ],
  [
    'text between elements',
    () => fresh().replace('<scope>', 'hello<scope>'),
    400,
    'LOA_CAP_INVALID',
    /^alert: text is not allowed here, only elements/,
  ],
  [
    'an attribute CAP does not have',
    () => fresh().replace('<severity>', '<severity level="9">'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/severity: attribute level is not part of CAP 1\.2/,
  ],
  [
    'an info without its event',
    () => fresh().replace(/<event>[^<]*<\/event>/, ''),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/event: required element missing/,
  ],
  // Values.
  [
    'an identifier with a space',
    () => fresh().replace(/<identifier>[^<]*</, '<identifier>VN 1<'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/identifier: must not contain whitespace, commas, < or &/,
  ],
  [
    'a sender with a comma',
    () => fresh().replace(/<sender>[^<]*</, '<sender>a,b<'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/sender: must not contain whitespace, commas, < or &/,
  ],
  [
    'a reference that is not a triple',
    () =>
      capXml({ identifier: 'VN-REF-2', sent: now, msgType: 'Cancel', refs: [['x', now]] }).replace(
        /,x,/,
        ',x,y,',
      ),
    400,
    'LOA_CAP_INVALID',
    /^alert\/references\/0: expected "sender,identifier,sent"/,
  ],
  [
    'a polygon point with an empty longitude',
    () => fresh().replace(/<geocode>.*<\/geocode>/, '<polygon>16.1, 16.2,107 16.3,107 16.1,</polygon>'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/area\/0\/polygon\/0: expected "lat,lon" in decimal degrees, got "16\.1,"/,
  ],
  [
    'a circle in hexadecimal',
    () => fresh().replace(/<geocode>.*<\/geocode>/, '<circle>0x10,107 5</circle>'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/area\/0\/circle\/0: expected "lat,lon" in decimal degrees/,
  ],
  [
    'a circle centre out of range',
    () => fresh().replace(/<geocode>.*<\/geocode>/, '<circle>96.1,107 5</circle>'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/area\/0\/circle\/0: "96\.1,107": latitude\/longitude out of range/,
  ],
  [
    'a ceiling without an altitude',
    () => fresh().replace('</geocode>', '</geocode><ceiling>100</ceiling>'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/area\/0\/ceiling: is only allowed with altitude/,
  ],
  [
    'a certainty from CAP 1.0',
    () => fresh().replace(/<certainty>[^<]*</, '<certainty>Very Likely<'),
    400,
    'LOA_CAP_INVALID',
    /^alert\/info\/0\/certainty: expected one of Observed, Likely, Possible, Unlikely, Unknown/,
  ],
]

describe('malformed CAP is a 4xx naming the problem', () => {
  for (const [what, xml, status, code, message] of refused) {
    it(`refuses ${what}`, async () => {
      const before = await alertCount()
      const r = await postCap(t, xml())
      expect(r.status).toBe(status)
      expect(r.body.code).toBe(code)
      expect(r.body.message).toMatch(message)
      expect(await alertCount()).toBe(before)
    })
  }
})

describe('well-formed CAP 1.2 in any of its spellings is accepted', () => {
  it('a prefixed root and children, comments, CDATA, character references and an XML signature', async () => {
    const xml = fresh()
      .replace(/<(\/?)([a-zA-Z]+)([ >])/g, '<$1cap:$2$3')
      .replace(`<cap:alert xmlns="${CAP_NS}">`, `<cap:alert xmlns:cap="${CAP_NS}"><!-- bản tin -->`)
      .replace('<cap:headline>Cảnh báo', '<cap:headline><![CDATA[Cảnh <báo>]]>&#x20;&#273;')
      .replace(
        '</cap:alert>',
        '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></cap:alert>',
      )
    const r = await postCap(t, xml)
    expect(r.status).toBe(201)
    const cap = parseCap(xml)
    expect(cap.info[0]?.headline).toMatch(/^Cảnh <báo> đ lũ quét/)
  })

  it('a leap day is a date; 2028-02-29 is read exactly', () => {
    expect(capInstant('2028-02-29T23:59:59-00:00')).toEqual({ ms: Date.UTC(2028, 1, 29, 23, 59, 59) })
    expect(capInstant('2000-02-29T07:00:00+07:00')).toEqual({ ms: Date.UTC(2000, 1, 29, 0, 0, 0) })
    expect(capInstant('1900-02-29T00:00:00Z')).toEqual({ problem: '1900-02 has no day 29' })
    expect(capInstant('2026-11-27T08:00:00.250+07:00')).toEqual({ ms: Date.UTC(2026, 10, 27, 1, 0, 0, 250) })
  })
})
