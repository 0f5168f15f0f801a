import type { XmlElement } from './xml.js'

/**
 * The structure of CAP 1.2 (the OASIS XML schema, CAP-v1.2.xsd): each element's children in the schema's order with
 * how often they may occur. `validateCap` walks a document against it, so an element out of place, unknown,
 * repeated or missing is refused with its path (`alert/info/0/urgency`), as a schema validator would.
 */
export const CAP_NS = 'urn:oasis:names:tc:emergency:cap:1.2'
/** XML signatures (CAP 1.2 §3.3.2.1) may follow the last `info`; they are accepted and not checked. */
export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#'

interface Particle {
  name: string
  min: number
  max: number
  /** 'text': character data only; otherwise the child sequence. */
  content: 'text' | Particle[]
}

const ONCE = { min: 1, max: 1 }
const OPTIONAL = { min: 0, max: 1 }
const ANY = { min: 0, max: Number.POSITIVE_INFINITY }
const text = (name: string, occurs = ONCE): Particle => ({ name, ...occurs, content: 'text' })
const nested = (name: string, occurs: { min: number; max: number }, content: Particle[]): Particle => ({
  name,
  ...occurs,
  content,
})
const pair = [text('valueName'), text('value')]

const AREA: Particle[] = [
  text('areaDesc'),
  text('polygon', ANY),
  text('circle', ANY),
  nested('geocode', ANY, pair),
  text('altitude', OPTIONAL),
  text('ceiling', OPTIONAL),
]
const RESOURCE: Particle[] = [
  text('resourceDesc'),
  text('mimeType'),
  text('size', OPTIONAL),
  text('uri', OPTIONAL),
  text('derefUri', OPTIONAL),
  text('digest', OPTIONAL),
]
const INFO: Particle[] = [
  text('language', OPTIONAL),
  text('category', { min: 1, max: Number.POSITIVE_INFINITY }),
  text('event'),
  text('responseType', ANY),
  text('urgency'),
  text('severity'),
  text('certainty'),
  text('audience', OPTIONAL),
  nested('eventCode', ANY, pair),
  text('effective', OPTIONAL),
  text('onset', OPTIONAL),
  text('expires', OPTIONAL),
  text('senderName', OPTIONAL),
  text('headline', OPTIONAL),
  text('description', OPTIONAL),
  text('instruction', OPTIONAL),
  text('web', OPTIONAL),
  text('contact', OPTIONAL),
  nested('parameter', ANY, pair),
  nested('resource', ANY, RESOURCE),
  nested('area', ANY, AREA),
]
const ALERT: Particle[] = [
  text('identifier'),
  text('sender'),
  text('sent'),
  text('status'),
  text('msgType'),
  text('source', OPTIONAL),
  text('scope'),
  text('restriction', OPTIONAL),
  text('addresses', OPTIONAL),
  text('code', ANY),
  text('note', OPTIONAL),
  text('references', OPTIONAL),
  text('incidents', OPTIONAL),
  nested('info', ANY, INFO),
]

export interface CapSchemaProblem {
  path: string
  problem: string
}

/** Checks `alert` (already known to be `<alert>` in the CAP 1.2 namespace) against the schema; null: valid. */
export function validateCap(alert: XmlElement): CapSchemaProblem | null {
  // An explicit stack: the schema is shallow, but nothing here recurses on input.
  const work: { el: XmlElement; path: string; content: Particle[]; signatures: boolean }[] = [
    { el: alert, path: 'alert', content: ALERT, signatures: true },
  ]
  for (let item = work.pop(); item; item = work.pop()) {
    const { el, path, content } = item
    for (const name of el.attrs.keys()) {
      if (!name.includes(':')) return { path, problem: `attribute ${name} is not part of CAP 1.2` }
    }
    if (el.mixed || (el.text.trim() !== '' && content.length > 0)) {
      return { path, problem: 'text is not allowed here, only elements' }
    }
    let at = 0
    const counts = new Map<string, number>()
    let signatures = false
    const nestedChildren: typeof work = []
    for (const [ci, child] of el.children.entries()) {
      const index = counts.get(child.name) ?? 0
      const childPath = `${path}/${child.name}${content.some((p) => p.name === child.name && p.max > 1) ? `/${index}` : ''}`
      if (child.ns === XMLDSIG_NS && item.signatures) {
        signatures = true
        continue
      }
      if (child.ns !== CAP_NS) {
        return {
          path: `${path}/${child.qname}`,
          problem: `unexpected element in namespace ${child.ns ?? '(none)'}: CAP 1.2 elements are in ${CAP_NS}`,
        }
      }
      const pos = content.findIndex((p) => p.name === child.name)
      const particle = content[pos]
      if (!particle)
        return { path: childPath, problem: `unexpected element (CAP 1.2 has no <${child.name}> here)` }
      if (signatures) return { path: childPath, problem: 'must come before the XML signature' }
      if (pos < at) {
        return {
          path: childPath,
          problem: `out of order: CAP 1.2 puts <${child.name}> before <${content[at]?.name}>`,
        }
      }
      for (let skipped = at; skipped < pos; skipped++) {
        const s = content[skipped] as Particle
        if ((counts.get(s.name) ?? 0) >= s.min) continue
        const later = el.children.slice(ci + 1).some((c) => c.name === s.name && c.ns === CAP_NS)
        return {
          path: `${path}/${s.name}`,
          problem: later
            ? `out of order: CAP 1.2 puts <${s.name}> before <${child.name}>`
            : 'required element missing',
        }
      }
      at = pos
      if (index + 1 > particle.max) return { path: childPath, problem: 'may appear only once' }
      counts.set(child.name, index + 1)
      if (particle.content === 'text') {
        if (child.children.length > 0) return { path: childPath, problem: 'expected text, not elements' }
        for (const name of child.attrs.keys()) {
          if (!name.includes(':'))
            return { path: childPath, problem: `attribute ${name} is not part of CAP 1.2` }
        }
      } else {
        nestedChildren.push({ el: child, path: childPath, content: particle.content, signatures: false })
      }
    }
    for (const p of content.slice(at)) {
      if ((counts.get(p.name) ?? 0) < p.min)
        return { path: `${path}/${p.name}`, problem: 'required element missing' }
    }
    // Children are checked in document order: the first problem reported is the first one in the document.
    work.push(...nestedChildren.reverse())
  }
  return null
}
