import fs from 'node:fs'
import { expect } from 'vitest'
import type { TestPlane } from './test-helpers.js'

/** Test helpers for media and alert-audio tests: a commune CAP geocodes resolve to, and current CAP documents. */

/** A province (code 46) with commune xa-a (code 19753, the CAP samples' geocode) and its cluster c-a. */
export async function seedCommuneA(t: TestPlane): Promise<void> {
  for (const u of [
    { id: 'tinh', name: 'Tỉnh', kind: 'province', parentId: null, code: '46' },
    { id: 'xa-a', name: 'Xã A', kind: 'commune', parentId: 'tinh', code: '19753' },
  ]) {
    expect((await t.api('POST', '/api/units', u)).status).toBe(201)
  }
  expect((await t.api('POST', '/api/clusters', { id: 'c-a', name: 'Cụm A', unitId: 'xa-a' })).status).toBe(
    201,
  )
}

export const capSample = (): string =>
  fs.readFileSync(new URL('../src/alerts/cap/samples/actual.xml', import.meta.url), 'utf8')

/**
 * The `actual.xml` sample as a new message sent now (from the clock, so never stale), optionally carrying
 * `derefUri` as an inline audio resource.
 */
export function currentCap(identifier: string, derefUri?: string): string {
  const sent = `${new Date().toISOString().slice(0, 19)}+00:00`
  const xml = capSample()
    .replace('VN-KTTV-2026-0001', identifier)
    .replace(/<sent>[^<]+<\/sent>/, `<sent>${sent}</sent>`)
  return derefUri === undefined ? xml : withAudioResource(xml, derefUri)
}

/** `xml` with an audio resource carrying `derefUri` (and `extra` markup after it), before its area. */
export const withAudioResource = (xml: string, derefUri: string, extra = ''): string =>
  xml.replace(
    '<area>',
    `<resource><resourceDesc>Còi</resourceDesc><mimeType>audio/wav</mimeType><derefUri>${derefUri}</derefUri>` +
      `</resource>${extra}\n    <area>`,
  )
