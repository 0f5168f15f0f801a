import fs from 'node:fs'
import type { DesiredStateBody } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CmdSpy, settle, spyCommands } from '../../../test-kit/alerts.js'
import { dated, postCap, sample } from '../../../test-kit/cap.js'
import { makeAudio, startTestPlane, type TestPlane } from '../../../test-kit/test-helpers.js'
import { parseCap } from './parse.js'

let t: TestPlane
let spy: CmdSpy
/** Every message of this file is sent a minute before the test starts, the chain in order, seconds apart. */
const T0 = Date.now() - 60_000
const at = (name: string, sentS = 0, refsS: number[] = []) =>
  dated(sample(name), { sent: T0 + sentS * 1000, refs: refsS.map((r) => T0 + r * 1000) })
const post = (xml: string, contentType?: string) => postCap(t, xml, contentType)
const desiredAlerts = async (id: string) =>
  ((await t.api<DesiredStateBody>('GET', `/api/clusters/${id}/desired-state`)).body.alerts ?? []).map(
    (a) => a.alertId,
  )
const topicsFor = (alertId: string | null) =>
  spy.seen
    .filter(
      (s) =>
        (s.body.kind === 'alert'
          ? s.body.alert.alertId
          : s.body.kind === 'alert-cancel'
            ? s.body.alertId
            : '') === alertId,
    )
    .map((s) => `${s.body.kind} ${s.topic}`)
    .sort()
async function targetsOf(alertId: string | null): Promise<string[]> {
  const v = await t.api<{ clusters: { clusterId: string }[] }>('GET', `/api/alerts/${alertId}`)
  return v.body.clusters.map((c) => c.clusterId)
}

beforeAll(async () => {
  t = await startTestPlane()
  const units = [
    { id: 'tinh', name: 'Tỉnh', kind: 'province', parentId: null, code: '46' },
    { id: 'xa-a', name: 'Xã A', kind: 'commune', parentId: 'tinh', code: '19753' },
    { id: 'thon-a1', name: 'Thôn A1', kind: 'village', parentId: 'xa-a' },
    { id: 'xa-b', name: 'Xã B', kind: 'commune', parentId: 'tinh', code: '20194' },
    { id: 'xa-c', name: 'Xã C', kind: 'commune', parentId: 'tinh' },
  ]
  for (const u of units) expect((await t.api('POST', '/api/units', u)).status).toBe(201)
  const clusters = [
    { id: 'c-a', unitId: 'xa-a', lat: 16.4637, lon: 107.5909 },
    { id: 'c-a1', unitId: 'thon-a1', lat: 16.55, lon: 107.7 },
    { id: 'c-b', unitId: 'xa-b', lat: 16.0544, lon: 108.2022 },
    { id: 'c-c', unitId: 'xa-c', lat: 21.0285, lon: 105.8542 },
  ]
  for (const c of clusters)
    expect((await t.api('POST', '/api/clusters', { ...c, name: c.id })).status).toBe(201)
  spy = await spyCommands(t)
})
afterAll(async () => {
  await spy?.close()
  await t?.close()
})

describe('CAP 1.2 ingest', () => {
  let actualId: string | null

  it('Actual: raised in the band of its severity, audible, spoken by espeak-ng into real media, on one unit topic', async () => {
    const r = await post(at('actual.xml'))
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({
      action: 'raised',
      level: 'emergency',
      priority: 255,
      audible: true,
      sent: true,
      targetCount: 2,
    })
    expect(r.body.media?.synthesized).toBe(true)
    actualId = r.body.alertId
    const media = await t.api<{ media: { sha256: string; durationMs: number; mime: string }[] }>(
      'GET',
      '/api/media',
    )
    const m = media.body.media.find((x) => x.sha256 === r.body.media?.sha256)
    expect(m?.mime).toBe('audio/ogg')
    expect(m?.durationMs).toBeGreaterThan(1000)
    const file = await t.cp.app.inject({ method: 'GET', url: `/media/${m?.sha256}`, headers: t.adminHeaders })
    expect(file.statusCode).toBe(200)
    expect(file.rawPayload.subarray(0, 4).toString('latin1')).toBe('OggS')
    await waitFor(() => topicsFor(actualId).length > 0, 10_000, 'alert publish')
    await settle()
    expect(topicsFor(actualId)).toEqual(['alert loa/v1/unit/xa-a/cmd'])
    expect(await desiredAlerts('c-a1')).toEqual([actualId])
    expect(await desiredAlerts('c-b')).toEqual([])
  })

  it('a repeated identifier changes nothing', async () => {
    const r = await post(at('actual.xml'), 'text/xml')
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ action: 'duplicate', alertId: actualId, sent: false })
  })

  it('Update replaces the referenced alert with a new revision', async () => {
    const r = await post(at('update.xml', 10, [0]))
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ action: 'updated', alertId: actualId, revision: 2, priority: 220 })
    await waitFor(() => topicsFor(actualId).length >= 2, 10_000, 'second publish')
    const d = await t.api<DesiredStateBody>('GET', '/api/clusters/c-a/desired-state')
    expect(d.body.alerts?.[0]).toMatchObject({
      alertId: actualId,
      revision: 2,
      title: 'Cập nhật: lũ quét giảm',
    })
  })

  it('Cancel withdraws it (referencing the update)', async () => {
    const r = await post(at('cancel.xml', 20, [10]), 'application/xml')
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ action: 'cancelled', alertId: actualId })
    await waitFor(
      () => topicsFor(actualId).some((x) => x.startsWith('alert-cancel')),
      10_000,
      'cancel publish',
    )
    expect(topicsFor(actualId)).toContain('alert-cancel loa/v1/unit/xa-a/cmd')
    expect(await desiredAlerts('c-a')).toEqual([])
    const a = await t.api<{ alert: { state: string } }>('GET', `/api/alerts/${actualId}`)
    expect(a.body.alert.state).toBe('cancelled')
  })

  it('Test and Exercise are delivered but never audible; Minor is a priority bulletin', async () => {
    const test = await post(at('test.xml'))
    expect(test.status).toBe(201)
    expect(test.body).toMatchObject({ audible: false, priority: 200, targetCount: 1 })
    expect(await targetsOf(test.body.alertId)).toEqual(['c-c']) // geocode by unit id
    const ex = await post(at('exercise.xml'))
    expect(ex.status).toBe(201)
    expect(ex.body).toMatchObject({ audible: false, level: 'priority', priority: 100 })
    const d = await t.api<DesiredStateBody>('GET', '/api/clusters/c-c/desired-state')
    expect(d.body.alerts?.[0]).toMatchObject({ alertId: test.body.alertId, audible: false })
    await waitFor(() => topicsFor(ex.body.alertId).length > 0, 10_000, 'exercise publish')
    const cmd = spy.seen.find((s) => s.body.kind === 'alert' && s.body.alert.alertId === ex.body.alertId)
    expect(cmd?.body).toMatchObject({ alert: { audible: false } })
  })

  it('an alert already expired is accepted, recorded, and never sent', async () => {
    const r = await post(sample('expired.xml'))
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ action: 'expired', sent: false, media: null })
    await settle()
    expect(topicsFor(r.body.alertId)).toEqual([])
    expect(await desiredAlerts('c-a')).not.toContain(r.body.alertId)
  })

  it('polygon and circle target the clusters inside, one device topic each', async () => {
    const poly = await post(at('polygon.xml'))
    expect(poly.status).toBe(201)
    expect(await targetsOf(poly.body.alertId)).toEqual(['c-a', 'c-a1'])
    const circle = await post(at('circle.xml'))
    expect(circle.status).toBe(201)
    expect(circle.body.priority).toBe(240)
    expect(await targetsOf(circle.body.alertId)).toEqual(['c-b'])
    await waitFor(
      () => topicsFor(circle.body.alertId).length > 0 && topicsFor(poly.body.alertId).length >= 2,
      10_000,
      'publishes',
    )
    await settle()
    expect(topicsFor(poly.body.alertId)).toEqual([
      'alert loa/v1/device/c-a/cmd',
      'alert loa/v1/device/c-a1/cmd',
    ])
    expect(topicsFor(circle.body.alertId)).toEqual(['alert loa/v1/device/c-b/cmd'])
  })

  it('geocode matches the administrative code: the whole province by one publish', async () => {
    const r = await post(at('geocode.xml'))
    expect(r.status).toBe(201)
    expect(await targetsOf(r.body.alertId)).toEqual(['c-a', 'c-a1', 'c-b', 'c-c'])
    await waitFor(() => topicsFor(r.body.alertId).length > 0, 10_000, 'publish')
    await settle()
    expect(topicsFor(r.body.alertId)).toEqual(['alert loa/v1/unit/tinh/cmd'])
  })

  it('an inline audio resource is used instead of speech', async () => {
    const wav = fs.readFileSync(makeAudio(t.dir, 'cap.wav', { seconds: 1, freq: 660 })).toString('base64')
    const xml = at('circle.xml')
      .replace('VN-KTTV-2026-0007', 'VN-KTTV-2026-0100')
      .replace(
        '<area>',
        `<resource><resourceDesc>Còi báo động</resourceDesc><mimeType>audio/wav</mimeType><derefUri>${wav}</derefUri></resource>\n    <area>`,
      )
    const r = await post(xml)
    expect(r.status).toBe(201)
    expect(r.body.media?.synthesized).toBe(false)
    const media = await t.api<{ media: { sha256: string; originalName: string }[] }>('GET', '/api/media')
    expect(media.body.media.find((m) => m.sha256 === r.body.media?.sha256)?.originalName).toBe('Còi báo động')
  })

  const refused: [string, number, string, RegExp][] = [
    ['malformed.xml', 400, 'LOA_CAP_INVALID', /^xml: not well-formed/],
    ['missing-status.xml', 400, 'LOA_CAP_INVALID', /^alert\/status: required element missing/],
    [
      'invalid-severity.xml',
      400,
      'LOA_CAP_INVALID',
      /^alert\/info\/0\/severity: expected one of Extreme, Severe/,
    ],
    ['unsupported-system.xml', 422, 'LOA_CAP_UNSUPPORTED', /^alert\/status: System/],
    ['unsupported-ack.xml', 422, 'LOA_CAP_UNSUPPORTED', /^alert\/msgType: Ack/],
  ]
  for (const [file, status, code, message] of refused) {
    it(`refuses ${file} naming the problem`, async () => {
      const r = await post(at(file))
      expect(r.status).toBe(status)
      expect(r.body.code).toBe(code)
      expect(r.body.message).toMatch(message)
    })
  }

  it('refuses other content types and CAP 1.1; a Cancel of a message never seen is remembered', async () => {
    const json = await t.api('POST', '/api/cap', { alert: {} })
    expect(json.status).toBe(415)
    const huge = await post(
      at('actual.xml').replace('<scope>', `<note>${'x'.repeat(17 * 1024 * 1024)}</note><scope>`),
    )
    expect(huge.status).toBe(413)
    const old = await post(at('actual.xml').replace('cap:1.2', 'cap:1.1'))
    expect(old.status).toBe(422)
    expect(old.body.code).toBe('LOA_CAP_UNSUPPORTED')
    const orphan = await post(
      at('cancel.xml', 30, [25])
        .replaceAll('VN-KTTV-2026-0002', 'VN-KTTV-1999-0001')
        .replace('VN-KTTV-2026-0003', 'VN-KTTV-2026-0200'),
    )
    expect(orphan.status).toBe(202)
    expect(orphan.body).toMatchObject({ action: 'remembered', alertId: null, sent: false })
  })
})

describe('parseCap', () => {
  it('reads polygons, circles, geocodes and references', () => {
    const cap = parseCap(sample('update.xml'))
    expect(cap.references).toEqual([
      { sender: 'canhbao@kttv.gov.vn', identifier: 'VN-KTTV-2026-0001', sent: '2026-11-27T01:00:00.000Z' },
    ])
    expect(cap.sent).toBe('2026-11-27T01:00:00.000Z')
    expect(parseCap(sample('polygon.xml')).info[0]?.areas[0]?.polygons[0]).toHaveLength(5)
    expect(parseCap(sample('circle.xml')).info[0]?.areas[0]?.circles).toEqual([
      { lat: 16.0544, lon: 108.2022, radiusKm: 15 },
    ])
  })
})
