import { randomBytes } from 'node:crypto'
import { type CapAlert, parseCap } from './cap-parse.js'

/**
 * A CAP alert may carry its audio inline, base64 in `<derefUri>`: then nearly all of its bytes are one text node,
 * and fast-xml-parser needs seconds of synchronous work for a 15 MB one, during which the control plane answers
 * nothing (not `/healthz`, not another alert). So the inline audio is lifted out by a linear scan before parsing,
 * replaced by a placeholder, and put back into the parsed resources: the parser only sees the small remainder.
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

/** parseCap, with inline audio lifted out first and put back into `info[].resources[].derefUri` (whitespace-free). */
export function parseCapWithInlineAudio(xml: string): CapAlert {
  const lifted = liftInlineAudio(xml)
  const cap = parseCap(lifted.xml)
  if (lifted.blobs.size === 0) return cap
  for (const info of cap.info) {
    for (const r of info.resources) {
      const blob = r.derefUri === null ? undefined : lifted.blobs.get(r.derefUri)
      if (blob !== undefined) r.derefUri = blob.replace(/\s+/g, '')
    }
  }
  return cap
}
