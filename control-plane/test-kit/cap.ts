import fs from 'node:fs'
import type { TestPlane } from './test-helpers.js'

/** Test helpers for CAP ingest: samples moved to times derived from the clock, posted over real HTTP. */

export const sample = (name: string) =>
  fs.readFileSync(new URL(`../src/alerts/cap/samples/${name}`, import.meta.url), 'utf8')

/** A CAP date-time at `ms` (whole seconds) in Vietnam's offset, as a Vietnamese feed writes it. */
export function capTime(ms: number): string {
  const local = new Date(Math.floor(ms / 1000) * 1000 + 7 * 3600_000).toISOString().slice(0, 19)
  return `${local}+07:00`
}

/** The same instant as cap-parse normalises it (ISO 8601 UTC). */
export const isoSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString()

export interface CapTimes {
  sent: number
  /** `sent` of each message in `references`, in order. */
  refs?: number[]
  /** Replaces every `expires`; null removes them. */
  expires?: number | null
  effective?: number
  identifier?: string
  status?: string
  /** Replaces the identifiers in `references`, in order. */
  refIds?: string[]
}

/** The document with its `sent`, references and optional fields set; samples are otherwise left as written. */
export function dated(xml: string, t: CapTimes): string {
  let out = xml.replace(/<sent>[^<]*<\/sent>/, `<sent>${capTime(t.sent)}</sent>`)
  if (t.identifier)
    out = out.replace(/<identifier>[^<]*<\/identifier>/, `<identifier>${t.identifier}</identifier>`)
  if (t.status) out = out.replace(/<status>[^<]*<\/status>/, `<status>${t.status}</status>`)
  out = out.replace(/<references>([^<]*)<\/references>/, (_all, refs: string) => {
    const triples = refs
      .trim()
      .split(/\s+/)
      .map((r, i) => {
        const [sender, identifier] = r.split(',')
        const sent = t.refs?.[i]
        return `${sender},${t.refIds?.[i] ?? identifier},${sent === undefined ? r.split(',')[2] : capTime(sent)}`
      })
    return `<references>${triples.join(' ')}</references>`
  })
  if (t.expires === null) out = out.replace(/\s*<expires>[^<]*<\/expires>/g, '')
  else if (t.expires !== undefined) {
    out = out.replace(/<expires>[^<]*<\/expires>/g, `<expires>${capTime(t.expires)}</expires>`)
  }
  if (t.effective !== undefined) {
    out = out.replace(/(\s*)<expires>/, `$1<effective>${capTime(t.effective)}</effective>$1<expires>`)
  }
  return out
}

export interface CapReply {
  action: string
  alertId: string | null
  revision: number | null
  level: string | null
  priority: number | null
  audible: boolean | null
  sent: boolean
  targetCount: number | null
  media: { sha256: string; synthesized: boolean } | null
  code?: string
  message?: string
}

/** POST /api/cap on the control plane's real HTTP port. */
export async function postCap(
  t: TestPlane,
  xml: string | Buffer,
  contentType = 'application/cap+xml',
): Promise<{ status: number; body: CapReply }> {
  const res = await fetch(`${t.cp.httpUrl}/api/cap`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...t.adminHeaders },
    body: xml,
  })
  return { status: res.status, body: (await res.json()) as CapReply }
}

export const SENDER = 'canhbao@kttv.gov.vn'

export interface CapMessage {
  identifier: string
  sent: number
  status?: string
  msgType?: 'Alert' | 'Update' | 'Cancel'
  scope?: string
  /** Extra elements after scope (restriction, addresses), as written. */
  afterScope?: string
  /** [identifier, sent] of each referenced message (same sender). */
  refs?: [string, number][]
  headline?: string
  severity?: string
  effective?: number
  /** null: no expires. */
  expires?: number | null
  /** Administrative code or unit id of the area (a geocode). */
  area?: string
}

/** A CAP 1.2 message made from its parts (elements in the schema's order). */
export function capXml(m: CapMessage): string {
  const msgType = m.msgType ?? 'Alert'
  const refs = m.refs?.length
    ? `\n  <references>${m.refs.map(([id, sent]) => `${SENDER},${id},${capTime(sent)}`).join(' ')}</references>`
    : ''
  const info =
    msgType === 'Cancel'
      ? ''
      : `
  <info>
    <language>vi-VN</language>
    <category>Met</category>
    <event>Lũ quét</event>
    <urgency>Immediate</urgency>
    <severity>${m.severity ?? 'Extreme'}</severity>
    <certainty>Observed</certainty>${m.effective !== undefined ? `\n    <effective>${capTime(m.effective)}</effective>` : ''}${
      m.expires === null ? '' : `\n    <expires>${capTime(m.expires ?? m.sent + 3600_000)}</expires>`
    }
    <headline>${m.headline ?? `Cảnh báo ${m.identifier}`}</headline>
    <area>
      <areaDesc>Xã</areaDesc>
      <geocode><valueName>VN-ADMIN</valueName><value>${m.area ?? 'xa-a'}</value></geocode>
    </area>
  </info>`
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>${m.identifier}</identifier>
  <sender>${SENDER}</sender>
  <sent>${capTime(m.sent)}</sent>
  <status>${m.status ?? 'Actual'}</status>
  <msgType>${msgType}</msgType>
  <scope>${m.scope ?? 'Public'}</scope>${m.afterScope ?? ''}${refs}${info}
</alert>
`
}
