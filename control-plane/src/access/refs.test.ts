import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RefCase, refCases, UNKNOWN_ID } from '../../test-kit/refs-cases.js'
import { type Communes, MARK, ok, seedCommunes, today, weekly } from '../../test-kit/refs-seed.js'
import { multipartBody, startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

/**
 * The scope of what a request refers to, and of every list (docs/users-and-roles.md, "Scope"). The role × route
 * matrix of access.test.ts checks resources named in the path; this file adds two rules that enumerate the routes
 * from the OpenAPI document, so a new route cannot slip past them:
 *
 * - every body field or query parameter that names another record (`…Id`, `…Ids`, `…Sha256(s)`, `targets.units`,
 *   `targets.clusters`, …) has a case below, run as a commune of xa-ab: naming a record of the other commune
 *   (xa-hoaphu) gets exactly the answer an unknown id gets, leaks nothing, and the same request naming one of its
 *   own records works;
 * - every list route, read by xa-ab's operator, viewer and scoped administrator, shows nothing of xa-hoaphu.
 *
 * Everything of xa-hoaphu carries "hoaphu" in its id or title, so a leak shows in the answer's text.
 */

let t: TestPlane
let c: Communes
let CASES: Record<string, RefCase>

beforeAll(async () => {
  t = await startTestPlane()
  c = await seedCommunes(t)
  CASES = refCases(c)
}, 90_000)
afterAll(async () => {
  await t?.close()
})

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { in: string; name: string; required?: boolean }[]
        requestBody?: { content?: Record<string, { schema: Schema }> }
      }
    >
  >
}
interface Schema {
  properties?: Record<string, Schema>
  items?: Schema
  anyOf?: Schema[]
}

/** A body key that names another record. */
const REFERENCE_KEY = /^(?!id$)(.*(Id|Ids|Sha256|Sha256s))$/
/** Query parameters that name another record. */
const REFERENCE_QUERY = /Id$|^unit$|^actor$/

function referenceFields(s: Schema | undefined, path: string, out: string[]): string[] {
  for (const [k, v] of Object.entries(s?.properties ?? {})) {
    const inTargets = path === 'targets.' && (k === 'units' || k === 'clusters')
    if (REFERENCE_KEY.test(k) || inTargets) out.push(`${path}${k}`)
    referenceFields(v, `${path}${k}.`, out)
  }
  for (const b of s?.anyOf ?? []) referenceFields(b, path, out)
  return out
}

async function openApi(): Promise<OpenApiDoc> {
  return (await c.admin<OpenApiDoc>('GET', '/openapi.json')).body
}

/** Every route × field of the API that names another record, as `METHOD /path body.field|query.name`. */
async function referencingRoutes(): Promise<string[]> {
  const out: string[] = []
  for (const [p, methods] of Object.entries((await openApi()).paths)) {
    for (const [m, op] of Object.entries(methods)) {
      const schema = op.requestBody?.content?.['application/json']?.schema
      for (const f of referenceFields(schema, '', [])) out.push(`${m.toUpperCase()} ${p} body.${f}`)
      for (const q of op.parameters ?? []) {
        if (q.in === 'query' && REFERENCE_QUERY.test(q.name))
          out.push(`${m.toUpperCase()} ${p} query.${q.name}`)
      }
    }
  }
  return out.sort()
}

/** Case values naming a seeded record by its key in `ids` (media hashes, generated ids). */
const value = (v: string) => c.ids[v] ?? v
const text = (body: unknown) => (typeof body === 'string' ? body : JSON.stringify(body))
/** What an answer says, with the id it was asked about blanked out: the same for foreign and unknown ids. */
const answer = (r: { status: number; body: unknown }, ref: string) => {
  const b = r.body as { code?: string; message?: string } | null
  const refused = r.status >= 400
  return {
    status: r.status,
    code: refused ? b?.code : undefined,
    message: refused ? b?.message?.replaceAll(ref, '<ref>') : undefined,
  }
}

describe('scope of lists and of referenced ids', () => {
  it('every list route shows nothing of another commune, to its operator, viewer and scoped administrator', async () => {
    const lists = Object.entries((await openApi()).paths)
      .filter(([p, methods]) => methods.get && !p.includes('{') && p !== '/healthz' && p !== '/api/live-mic')
      .map(([p, methods]) => {
        const query = (methods.get?.parameters ?? [])
          .filter((q) => q.in === 'query' && q.required)
          .map(
            (q) =>
              `${q.name}=${q.name === 'unitId' ? 'xa-ab' : q.name === 'year' ? today().slice(0, 4) : today()}`,
          )
        return query.length ? `${p}?${query.join('&')}` : p
      })
    expect(lists.length).toBeGreaterThan(25)
    let answered = 0
    for (const [who, call] of [
      ['operator', c.ab],
      ['viewer', c.abViewer],
      ['admin', c.abAdmin],
    ] as const) {
      for (const url of lists) {
        const r = await call('GET', url)
        expect(r.status, `${who} GET ${url}`).toBeLessThan(500)
        if (r.status === 200) answered++
        const body = text(r.body).toLowerCase()
        expect(
          body.includes(MARK) || body.includes(c.ids.shaHp as string),
          `${who} GET ${url}: ${body.slice(0, 300)}`,
        ).toBe(false)
      }
    }
    // Most routes answered (the rest refused by role, e.g. the users list to an operator): the scan saw data.
    expect(answered).toBeGreaterThan(lists.length * 2)
    // And each commune does see its own.
    // (Its own playlist, and the one of the programme it accepted the province's bulletin into.)
    const playlists = (await c.ab<{ playlists: { id: string; unitId: string }[] }>('GET', '/api/playlists'))
      .body.playlists
    expect(playlists.map((p) => p.unitId)).toEqual(['xa-ab', 'xa-ab'])
    expect(playlists.map((p) => p.id)).toContain('p-ab')
    expect(
      (await c.ab<{ media: { sha256: string }[] }>('GET', '/api/media')).body.media.map((m) => m.sha256),
    ).toEqual([c.ids.shaAb])
  })

  it('every route that names another record in its body or query has a case here', async () => {
    expect(await referencingRoutes()).toEqual(Object.keys(CASES).sort())
  })

  it("naming another commune's record gets the answer an unknown id gets, and one's own works", async () => {
    // Reads first: the refused writes below are audited as the caller's own actions, naming what they named.
    const order = Object.entries(CASES).sort(
      ([a], [b]) => Number(!a.startsWith('GET')) - Number(!b.startsWith('GET')),
    )
    for (const [name, rc] of order) {
      const call = rc.actor
      const foreign = value(rc.foreign)
      const unknown = rc.unknown ?? UNKNOWN_ID
      const [fm, fu, fb] = rc.request(foreign)
      const f = await call(fm, fu, fb)
      const [um, uu, ub] = rc.request(unknown)
      const u = await call(um, uu, ub)
      expect(answer(f, foreign), `${name}: foreign vs unknown`).toEqual(answer(u, unknown))
      // Nothing of the other commune in the answer, beyond the id the caller itself sent.
      const told = text(f.body).replaceAll(foreign, '<ref>').toLowerCase()
      expect(
        told.includes(MARK) || told.includes(c.ids.shaHp as string),
        `${name}: ${told.slice(0, 300)}`,
      ).toBe(false)
      if (!name.startsWith('GET')) expect(f.status, `${name}: refused`).toBeGreaterThanOrEqual(400)
      const [om, ou, ob] = rc.request(value(rc.own))
      const o = await call(om, ou, ob)
      expect(o.status, `${name}: own ${text(o.body).slice(0, 300)}`).toBeLessThan(300)
    }
  }, 120_000)

  it("a bulletin sent down to the commune is seen there, but is not the commune's to send on (403)", async () => {
    expect((await c.ab('GET', '/api/bulletins/b-prov-xa-ab')).status).toBe(200)
    const r = await c.ab('POST', '/api/bulletins/b-prov-xa-ab/send', { toUnitIds: ['thon-ab'] })
    expect(r.status).toBe(403)
  })

  it('a province-wide playlist is shown to a commune only when it may see every bulletin in it', async () => {
    await ok(c.admin, 'POST', '/api/playlists', { id: 'p-prov', title: 'Tỉnh', bulletinIds: ['b-ab'] })
    await ok(c.admin, 'POST', '/api/playlists', {
      id: 'p-prov-mixed',
      title: 'Tỉnh',
      bulletinIds: ['b-ab', 'b-hoaphu'],
    })
    const shown = (await c.ab<{ playlists: { id: string }[] }>('GET', '/api/playlists')).body.playlists.map(
      (p) => p.id,
    )
    expect(shown).toContain('p-prov')
    expect(shown).not.toContain('p-prov-mixed')
    const r = await c.ab('POST', '/api/schedules', {
      playlistId: 'p-prov-mixed',
      recurrence: weekly,
      targets: { units: ['xa-ab'] },
    })
    expect(r.status).toBe(400)
    expect((r.body as { message: string }).message).toBe('playlistId: playlist "p-prov-mixed" not found')
  })

  it("uploading a file another commune uploaded does not say so, and makes it the uploader's too", async () => {
    const { payload, headers } = multipartBody(
      'file',
      'cung-tep.wav',
      fs.readFileSync(`${t.dir}/hoaphu.wav`),
      'audio/wav',
    )
    const res = await t.cp.app.inject({
      method: 'POST',
      url: '/api/media',
      payload,
      headers: { ...headers, authorization: `Bearer ${c.abToken}` },
    })
    expect(res.statusCode).toBe(201)
    expect(JSON.parse(res.body)).toMatchObject({ sha256: c.ids.shaHp, deduplicated: false })
    expect(
      (await c.ab<{ media: { sha256: string }[] }>('GET', '/api/media')).body.media.map((m) => m.sha256),
    ).toContain(c.ids.shaHp)
    // Uploaded once more, by someone who could already see it: now it says so.
    const again = await t.cp.app.inject({
      method: 'POST',
      url: '/api/media',
      payload,
      headers: { ...headers, authorization: `Bearer ${c.abToken}` },
    })
    expect(JSON.parse(again.body).deduplicated).toBe(true)
  })
})
