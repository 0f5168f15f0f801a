import { randomBytes } from 'node:crypto'
import { type CapAlert, parseCap } from './parse.js'

/**
 * A CAP alert may carry its audio inline, base64 in `<derefUri>`: then nearly all of its bytes are one text node.
 * Every synchronous pass over it holds the event loop (fast-xml-parser, used before alerts/cap/xml.ts, took seconds for
 * 15 MB; our reader takes tens of milliseconds, then parseCap strips its whitespace). So the inline audio is lifted
 * out by a linear scan before parsing, replaced by a placeholder, and put back into the parsed resources: the
 * reader only sees the small remainder, and decodeBase64 then works through the audio a megabyte at a time.
 */

/** Shorter contents are left to the parser: lifting only pays for large ones. */
const MIN_LIFT = 4096
const OPEN = /<((?:[A-Za-z_][\w.-]*:)?)derefUri\s*>/y

export interface LiftedXml {
  xml: string
  /** Placeholder → the raw content it replaced. */
  blobs: Map<string, string>
}

/**
 * Replaces the content of every large `<derefUri>` element by a placeholder. Comments and CDATA sections are
 * skipped, so text that only looks like the element stays as it is; content with `<` or an entity (`&`) is left to
 * the parser, which decides what it means.
 */
export function liftInlineAudio(xml: string): LiftedXml {
  const nonce = randomBytes(8).toString('hex')
  const blobs = new Map<string, string>()
  const parts: string[] = []
  let copied = 0
  let at = xml.indexOf('<')
  while (at >= 0) {
    let next = at + 1
    if (xml.startsWith('<!--', at)) next = skipPast(xml, '-->', at + 4)
    else if (xml.startsWith('<![CDATA[', at)) next = skipPast(xml, ']]>', at + 9)
    else {
      OPEN.lastIndex = at
      const open = OPEN.exec(xml)
      if (open) {
        const start = at + open[0].length
        const end = xml.indexOf('<', start)
        if (end < 0) break
        if (end - start >= MIN_LIFT && xml.startsWith(`</${open[1]}derefUri`, end)) {
          const content = xml.slice(start, end)
          if (!content.includes('&')) {
            const placeholder = `loa-inline-${nonce}-${blobs.size}`
            blobs.set(placeholder, content)
            parts.push(xml.slice(copied, start), placeholder)
            copied = end
          }
        }
        next = end
      }
    }
    if (next < 0) break
    at = xml.indexOf('<', next)
  }
  if (blobs.size === 0) return { xml, blobs }
  parts.push(xml.slice(copied))
  return { xml: parts.join(''), blobs }
}

/** The index just past `marker` (searched from `from`), or -1 when the document ends first. */
function skipPast(xml: string, marker: string, from: number): number {
  const i = xml.indexOf(marker, from)
  return i < 0 ? -1 : i + marker.length
}

/**
 * parseCap, with inline audio lifted out first and put back into `info[].resources[].derefUri` as it was written
 * (line breaks included: decodeBase64 takes them out without holding the event loop).
 */
export function parseCapWithInlineAudio(xml: string): CapAlert {
  const lifted = liftInlineAudio(xml)
  const cap = parseCap(lifted.xml)
  if (lifted.blobs.size === 0) return cap
  for (const info of cap.info) {
    for (const r of info.resources) {
      const blob = r.derefUri === null ? undefined : lifted.blobs.get(r.derefUri)
      if (blob !== undefined) r.derefUri = blob
    }
  }
  return cap
}

const DECODE_CHUNK = 1 << 20
const NOT_BASE64 = /[^A-Za-z0-9+/]/

/**
 * Base64 (whitespace anywhere, up to two `=` at the end) to bytes, a megabyte at a time with the event loop let
 * through in between: a regular expression or a whitespace strip over 15 MB at once holds it for a tenth of a
 * second and more. Null when the text is not base64.
 */
export async function decodeBase64(text: string): Promise<Buffer | null> {
  const parts: Buffer[] = []
  let carry = ''
  let padding = ''
  for (let at = 0; at < text.length; at += DECODE_CHUNK) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve))
    let data = text.slice(at, at + DECODE_CHUNK).replace(/\s+/g, '')
    if (data === '') continue
    // After the padding, nothing but whitespace may follow.
    if (padding !== '') return null
    const eq = data.indexOf('=')
    if (eq >= 0) {
      padding = data.slice(eq)
      data = data.slice(0, eq)
      if (!/^={1,2}$/.test(padding)) return null
    }
    if (NOT_BASE64.test(data)) return null
    data = carry + data
    const whole = data.length - (data.length % 4)
    parts.push(Buffer.from(data.slice(0, whole), 'base64'))
    carry = data.slice(whole)
  }
  if (carry === '' && parts.every((p) => p.length === 0)) return null
  parts.push(Buffer.from(carry + padding, 'base64'))
  return Buffer.concat(parts)
}
