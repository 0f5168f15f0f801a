import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeAudio, startTestPlane, type TestPlane, uploadMedia } from '../../test-kit/test-helpers.js'
import { MicStartMessage } from '../relays/mic/routes.js'
import { PLAIN_TEXT_PATTERN, PLAIN_TEXT_PROBLEM } from './plain-text.js'

/**
 * Names are plain text at the API (docs/security.md, "Browser pages"): a rule over every route the OpenAPI document
 * lists, so a new route cannot take a name without the check, and each entity's create and update refusing markup
 * with a 400 that names the field, storing nothing.
 */

/** Body fields that hold a name shown to people. */
const NAME_KEYS = new Set(['name', 'displayName', 'title', 'label', 'kind'])

interface Schema {
  type?: string
  const?: unknown
  enum?: unknown[]
  pattern?: string
  properties?: Record<string, Schema>
  items?: Schema
  anyOf?: Schema[]
  oneOf?: Schema[]
}

/** Every free-text name field of a schema, as `path` → its string schema(s). */
function nameFields(s: Schema | undefined, path: string, out: [string, Schema][]): [string, Schema][] {
  if (!s) return out
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const here = `${path}${k}`
    for (const branch of [v, ...(v.anyOf ?? []), ...(v.oneOf ?? [])]) {
      const free = branch.type === 'string' && branch.const === undefined && branch.enum === undefined
      if (NAME_KEYS.has(k) && free) out.push([here, branch])
    }
    nameFields(v, `${here}.`, out)
    nameFields(v.items, `${here}[].`, out)
  }
  for (const b of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) nameFields(b, path, out)
  return out
}

/** Fields whose handler checks them itself, and why (each with its own test). */
const CHECKED_BY_HANDLER: Record<string, string> = {
  // units-import.test.ts: nameProblem() per row, reported with the line number.
  'POST /api/units/import rows[].name': 'nameProblem',
  // Only the known unit kinds (and their aliases) are accepted.
  'POST /api/units/import rows[].kind': 'canonicalKind',
}

let t: TestPlane
let sha: string
const MARKUP = 'Xã <img src=x onerror=alert(1)>'

beforeAll(async () => {
  t = await startTestPlane()
  for (const u of [
    { id: 'prov', name: 'Tỉnh', kind: 'province', parentId: null },
    { id: 'xa-a', name: 'Xã A', kind: 'commune', parentId: 'prov' },
  ]) {
    expect((await t.api('POST', '/api/units', u)).status).toBe(201)
  }
  expect((await t.api('POST', '/api/clusters', { id: 'c-a', name: 'Cụm A', unitId: 'xa-a' })).status).toBe(
    201,
  )
  sha = (await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, 'a.wav', { seconds: 1 })))).body
    .sha256 as string
  expect(
    (await t.api('POST', '/api/bulletins', { id: 'b-a', title: 'Tin', level: 'normal', mediaSha256: sha }))
      .status,
  ).toBe(201)
}, 60_000)
afterAll(async () => {
  await t?.close()
})

describe('names are plain text', () => {
  it('every name, title, label and kind any route takes carries the plain-text rule', async () => {
    const doc = await t.api<{
      paths: Record<
        string,
        Record<string, { requestBody?: { content?: Record<string, { schema: Schema }> } }>
      >
    }>('GET', '/openapi.json')
    const fields: string[] = []
    const unchecked: string[] = []
    for (const [p, methods] of Object.entries(doc.body.paths)) {
      for (const [m, op] of Object.entries(methods)) {
        const schema = op.requestBody?.content?.['application/json']?.schema
        for (const [field, s] of nameFields(schema, '', [])) {
          const where = `${m.toUpperCase()} ${p} ${field}`
          fields.push(where)
          if (s.pattern !== PLAIN_TEXT_PATTERN && !CHECKED_BY_HANDLER[where]) unchecked.push(where)
        }
      }
    }
    // The microphone's start message comes over a WebSocket, outside the OpenAPI document.
    for (const [field, s] of nameFields(MicStartMessage as Schema, '', [])) {
      fields.push(`WS /api/live-mic ${field}`)
      if (s.pattern !== PLAIN_TEXT_PATTERN) unchecked.push(`WS /api/live-mic ${field}`)
    }
    expect(fields.length).toBeGreaterThan(15)
    expect(unchecked).toEqual([])
  })

  it('refuses markup in every entity name with a 400 naming the field, and stores nothing', async () => {
    const weekly = { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-01-01' }
    const cases: [string, string, Record<string, unknown>, string, string][] = [
      [
        'POST',
        '/api/units',
        { id: 'u-x', name: MARKUP, kind: 'village', parentId: 'xa-a' },
        'name',
        'LOA_VALIDATION',
      ],
      [
        'POST',
        '/api/units',
        { id: 'u-y', name: 'Thôn', kind: '<b>x</b>', parentId: 'xa-a' },
        'kind',
        'LOA_VALIDATION',
      ],
      ['POST', '/api/stations', { id: 'st-x', name: MARKUP, unitId: 'xa-a' }, 'name', 'LOA_VALIDATION'],
      ['POST', '/api/clusters', { id: 'c-x', name: MARKUP, unitId: 'xa-a' }, 'name', 'LOA_VALIDATION'],
      [
        'POST',
        '/api/clusters',
        { id: 'c-y', name: 'Cụm', unitId: 'xa-a', zones: [{ id: 'z1', name: MARKUP }] },
        'zones[0].name',
        'LOA_VALIDATION',
      ],
      ['PATCH', '/api/clusters/c-a', { name: MARKUP }, 'name', 'LOA_VALIDATION'],
      [
        'POST',
        '/api/users',
        {
          username: 'lan',
          displayName: MARKUP,
          role: 'viewer',
          scopeUnitId: 'xa-a',
          password: 'mật-khẩu-dài-1',
        },
        'displayName',
        'LOA_VALIDATION',
      ],
      ['POST', '/api/tokens', { name: MARKUP, role: 'viewer' }, 'name', 'LOA_VALIDATION'],
      [
        'POST',
        '/api/bulletins',
        { id: 'b-x', title: MARKUP, level: 'normal', mediaSha256: sha },
        'title',
        'LOA_VALIDATION',
      ],
      [
        'POST',
        '/api/playlists',
        { id: 'p-x', title: MARKUP, bulletinIds: ['b-a'] },
        'title',
        'LOA_VALIDATION',
      ],
      [
        'POST',
        '/api/schedules',
        { id: 's-x', title: MARKUP, bulletinId: 'b-a', recurrence: weekly, targets: { units: ['xa-a'] } },
        'title',
        'LOA_SCHEDULE_INVALID',
      ],
      [
        'POST',
        '/api/alerts',
        { title: MARKUP, bulletinId: 'b-a', targets: { units: ['xa-a'] } },
        'title',
        'LOA_ALERT_INVALID',
      ],
      [
        'POST',
        '/api/lives',
        {
          title: MARKUP,
          sourceUrl: 'http://radio.example.vn/a.mp3',
          targets: { units: ['xa-a'] },
          durationS: 60,
        },
        'title',
        'LOA_LIVE_INVALID',
      ],
      [
        'POST',
        '/api/relays',
        {
          id: 'r-x',
          title: MARKUP,
          sourceUrl: 'http://radio.example.vn/a.mp3',
          recurrence: weekly,
          durationS: 60,
          targets: { units: ['xa-a'] },
        },
        'title',
        'LOA_RELAY_INVALID',
      ],
      ['POST', '/api/tts/bulletins', { text: 'Xin chào', title: MARKUP }, 'title', 'LOA_VALIDATION'],
      // Controls and bidi overrides make a name display as another: refused the same way.
      [
        'POST',
        '/api/units',
        { id: 'u-z', name: 'Xã \u202eA', kind: 'village', parentId: 'xa-a' },
        'name',
        'LOA_VALIDATION',
      ],
    ]
    for (const [method, url, body, field, code] of cases) {
      const r = await t.api<{ code: string; message: string }>(method, url, body)
      const what = `${method} ${url} ${field}`
      expect(r.status, what).toBe(400)
      expect(r.body.code, what).toBe(code)
      expect(r.body.message, what).toBe(`${field}: ${PLAIN_TEXT_PROBLEM}`)
    }
    // Nothing was stored.
    for (const url of ['/api/units/u-x', '/api/units/u-y', '/api/clusters/c-x', '/api/bulletins/b-x']) {
      expect((await t.api('GET', url)).status, url).toBe(404)
    }
    expect((await t.api<{ name: string }>('GET', '/api/clusters/c-a')).body.name).toBe('Cụm A')
    const lists = await Promise.all(
      [
        '/api/stations',
        '/api/playlists',
        '/api/schedules',
        '/api/alerts',
        '/api/lives',
        '/api/relays',
        '/api/users',
      ].map(async (u) => JSON.stringify((await t.api('GET', u)).body)),
    )
    for (const l of lists) expect(l).not.toContain('<img')
  })
})
