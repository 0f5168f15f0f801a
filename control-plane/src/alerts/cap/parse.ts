import { ringProblem } from '../../org/geo.js'
import type { Circle, LatLon } from '../../org/model.js'
import { LoaError } from '../../server/errors.js'
import { capInstant } from './dates.js'
import { CAP_NS, validateCap } from './schema.js'
import { readXml, type XmlElement, XmlError } from './xml.js'

export { CAP_NS } from './schema.js'

/** A CAP message's key (CAP 1.2 §3.2.1 `references`): the sender, its identifier, and when it was sent. */
export interface CapKey {
  sender: string
  identifier: string
  /** ISO 8601 UTC. */
  sent: string
}

/** An OASIS CAP 1.2 alert, reduced to what Loa acts on, with every element checked. */
export interface CapAlert extends CapKey {
  status: 'Actual' | 'Exercise' | 'System' | 'Test' | 'Draft'
  msgType: 'Alert' | 'Update' | 'Cancel' | 'Ack' | 'Error'
  scope: 'Public' | 'Restricted' | 'Private'
  restriction: string | null
  /** `addresses`, split as CAP says (whitespace-delimited, multi-word addresses in double quotes). */
  addresses: string[]
  references: CapKey[]
  info: CapInfo[]
}

export interface CapInfo {
  language: string
  categories: string[]
  event: string
  urgency: string
  severity: string
  certainty: string
  headline: string | null
  description: string | null
  instruction: string | null
  /** ISO 8601 UTC, or null when absent. */
  effective: string | null
  onset: string | null
  expires: string | null
  resources: { resourceDesc: string; mimeType: string; derefUri: string | null; uri: string | null }[]
  areas: CapArea[]
}

export interface CapArea {
  areaDesc: string
  polygons: LatLon[][]
  circles: Circle[]
  geocodes: { valueName: string; value: string }[]
}

const STATUS = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const
const MSG_TYPES = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const
const SCOPES = ['Public', 'Restricted', 'Private'] as const
const CATEGORIES = [
  'Geo',
  'Met',
  'Safety',
  'Security',
  'Rescue',
  'Fire',
  'Health',
  'Env',
  'Transport',
  'Infra',
  'CBRNE',
  'Other',
] as const
const RESPONSE_TYPES = [
  'Shelter',
  'Evacuate',
  'Prepare',
  'Execute',
  'Avoid',
  'Monitor',
  'Assess',
  'AllClear',
  'None',
] as const
const URGENCY = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const
const SEVERITY = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const
const CERTAINTY = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const
/** RFC 3066 language tag (xs:language). */
const LANGUAGE = /^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/
/** A decimal number as CAP writes coordinates: no exponent, no hex, no empty string. */
const DECIMAL = /^[-+]?(\d+(\.\d*)?|\.\d+)$/
/** Identifiers and senders may not contain whitespace, commas or the restricted characters < and & (§3.2.1). */
const NOT_IN_KEY = /[\s,<&]/

/**
 * Limits of the reader. CAP nests at most 5 elements deep (alert/info/area/geocode/value), 7 with an XML signature;
 * 20,000 elements hold a province-wide alert listing thousands of communes by geocode; 100,000 references are a
 * long Vietnamese text written entirely as character references, several times over.
 */
export const CAP_XML_LIMITS = { maxDepth: 16, maxElements: 20_000, maxAttributes: 32, maxReferences: 100_000 }

const bad = (path: string, problem: string) => new LoaError('LOA_CAP_INVALID', `${path}: ${problem}`)

const first = (el: XmlElement, name: string) => el.children.find((c) => c.name === name)
const all = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name)

/** The trimmed text of an element the schema allows (already checked to hold text only). */
function text(el: XmlElement, name: string, path: string, required: true): string
function text(el: XmlElement, name: string, path: string, required: false): string | null
function text(el: XmlElement, name: string, path: string, required: boolean): string | null {
  const v = first(el, name)?.text.trim()
  if (v === undefined || v === '') {
    if (required)
      throw bad(`${path}/${name}`, v === undefined ? 'required element missing' : 'must not be empty')
    return null
  }
  return v
}

const texts = (el: XmlElement, name: string) => all(el, name).map((c) => c.text.trim())

function oneOf<T extends string>(v: string, allowed: readonly T[], path: string): T {
  if (!(allowed as readonly string[]).includes(v)) {
    throw bad(path, `expected one of ${allowed.join(', ')}, got "${v.slice(0, 50)}"`)
  }
  return v as T
}

/** A CAP date-time as ISO 8601 UTC; impossible dates are refused, never rolled over. */
export function dateTime(v: string, path: string): string {
  const r = capInstant(v)
  if ('problem' in r) throw bad(path, `${r.problem}, got "${v.slice(0, 50)}"`)
  return new Date(r.ms).toISOString()
}

function keyPart(v: string, path: string): string {
  if (NOT_IN_KEY.test(v))
    throw bad(path, `must not contain whitespace, commas, < or &, got "${v.slice(0, 80)}"`)
  return v
}

function point(p: string, path: string): LatLon {
  const parts = p.split(',')
  const [lat, lon] = parts.map(Number)
  if (parts.length !== 2 || !parts.every((x) => DECIMAL.test(x)) || lat === undefined || lon === undefined) {
    throw bad(path, `expected "lat,lon" in decimal degrees, got "${p.slice(0, 40)}"`)
  }
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180)
    throw bad(path, `"${p.slice(0, 40)}": latitude/longitude out of range`)
  return [lat, lon]
}

const words = (s: string) => s.split(/[ \t\r\n]+/).filter(Boolean)

function parseArea(a: XmlElement, path: string): CapArea {
  const areaDesc = text(a, 'areaDesc', path, true)
  const polygons = texts(a, 'polygon').map((s, i) => {
    const ring = words(s).map((p) => point(p, `${path}/polygon/${i}`))
    const problem = ringProblem(ring)
    if (problem) throw bad(`${path}/polygon/${i}`, problem)
    return ring
  })
  const circles = texts(a, 'circle').map((s, i): Circle => {
    const [center, radius, ...rest] = words(s)
    if (!center || radius === undefined || rest.length > 0 || !DECIMAL.test(radius) || Number(radius) < 0) {
      throw bad(`${path}/circle/${i}`, `expected "lat,lon radiusKm", got "${s.slice(0, 40)}"`)
    }
    const [lat, lon] = point(center, `${path}/circle/${i}`)
    return { lat, lon, radiusKm: Number(radius) }
  })
  const geocodes = all(a, 'geocode').map((g, i) => ({
    valueName: text(g, 'valueName', `${path}/geocode/${i}`, true),
    value: text(g, 'value', `${path}/geocode/${i}`, true),
  }))
  const altitude = text(a, 'altitude', path, false)
  const ceiling = text(a, 'ceiling', path, false)
  for (const [name, v] of [
    ['altitude', altitude],
    ['ceiling', ceiling],
  ] as const) {
    if (v !== null && !DECIMAL.test(v))
      throw bad(`${path}/${name}`, `expected a number of feet, got "${v.slice(0, 40)}"`)
  }
  if (ceiling !== null && altitude === null) throw bad(`${path}/ceiling`, 'is only allowed with altitude')
  return { areaDesc, polygons, circles, geocodes }
}

function optionalDate(n: XmlElement, name: string, path: string): string | null {
  const v = text(n, name, path, false)
  return v === null ? null : dateTime(v, `${path}/${name}`)
}

function parseInfo(n: XmlElement, path: string): CapInfo {
  for (const [i, c] of texts(n, 'category').entries()) oneOf(c, CATEGORIES, `${path}/category/${i}`)
  for (const [i, r] of texts(n, 'responseType').entries())
    oneOf(r, RESPONSE_TYPES, `${path}/responseType/${i}`)
  const language = text(n, 'language', path, false) ?? 'en-US'
  if (!LANGUAGE.test(language))
    throw bad(`${path}/language`, `not a language tag: "${language.slice(0, 40)}"`)
  const resources = all(n, 'resource').map((r, i) => {
    const at = `${path}/resource/${i}`
    const size = text(r, 'size', at, false)
    if (size !== null && !/^\d+$/.test(size))
      throw bad(`${at}/size`, `expected a number of bytes, got "${size.slice(0, 40)}"`)
    return {
      resourceDesc: text(r, 'resourceDesc', at, true),
      mimeType: text(r, 'mimeType', at, true),
      derefUri: text(r, 'derefUri', at, false)?.replace(/[ \t\r\n]+/g, '') ?? null,
      uri: text(r, 'uri', at, false),
    }
  })
  return {
    language,
    categories: texts(n, 'category'),
    event: text(n, 'event', path, true),
    urgency: oneOf(text(n, 'urgency', path, true), URGENCY, `${path}/urgency`),
    severity: oneOf(text(n, 'severity', path, true), SEVERITY, `${path}/severity`),
    certainty: oneOf(text(n, 'certainty', path, true), CERTAINTY, `${path}/certainty`),
    headline: text(n, 'headline', path, false),
    description: text(n, 'description', path, false),
    instruction: text(n, 'instruction', path, false),
    effective: optionalDate(n, 'effective', path),
    onset: optionalDate(n, 'onset', path),
    expires: optionalDate(n, 'expires', path),
    resources,
    areas: all(n, 'area').map((a, i) => parseArea(a, `${path}/area/${i}`)),
  }
}

/** `addresses`: whitespace-delimited; an address with spaces is enclosed in double quotes. */
function parseAddresses(v: string | null, path: string): string[] {
  if (v === null) return []
  const out: string[] = []
  const re = /[ \t\r\n]*(?:"([^"]*)"|([^" \t\r\n]+))/y
  let m = re.exec(v)
  while (m) {
    out.push((m[1] ?? m[2]) as string)
    if (re.lastIndex >= v.length) return out
    m = re.exec(v)
  }
  if (v.slice(re.lastIndex).trim() === '') return out
  throw bad(path, 'a double quote opens an address that is never closed')
}

function parseReferences(v: string | null, path: string): CapKey[] {
  return words(v ?? '').map((r, i) => {
    const [sender, identifier, sent, ...rest] = r.split(',')
    if (!sender || !identifier || !sent || rest.length > 0) {
      throw bad(`${path}/${i}`, `expected "sender,identifier,sent", got "${r.slice(0, 80)}"`)
    }
    keyPart(sender, `${path}/${i}`)
    keyPart(identifier, `${path}/${i}`)
    return { sender, identifier, sent: dateTime(sent, `${path}/${i}`) }
  })
}

function readDocument(xml: string): XmlElement {
  try {
    return readXml(xml, CAP_XML_LIMITS)
  } catch (err) {
    if (!(err instanceof XmlError)) throw err
    throw bad('xml', err.refused ? err.message : `not well-formed: ${err.message}`)
  }
}

/** Parses and validates a CAP 1.2 document; every failure names the element, e.g. `alert/info/0/severity`. */
export function parseCap(xml: string): CapAlert {
  const root = readDocument(xml)
  if (root.name !== 'alert' || root.ns === null || !root.ns.startsWith('urn:oasis:names:tc:emergency:cap:')) {
    throw bad(root.qname, `the root element must be <alert> in the namespace ${CAP_NS}`)
  }
  if (root.ns !== CAP_NS) {
    throw new LoaError(
      'LOA_CAP_UNSUPPORTED',
      `alert: namespace must be ${CAP_NS}, got ${root.ns.slice(0, 80)} (only CAP 1.2 is supported)`,
    )
  }
  const invalid = validateCap(root)
  if (invalid) throw bad(invalid.path, invalid.problem)

  const path = 'alert'
  const identifier = keyPart(text(root, 'identifier', path, true), `${path}/identifier`)
  const sender = keyPart(text(root, 'sender', path, true), `${path}/sender`)
  const sent = dateTime(text(root, 'sent', path, true), `${path}/sent`)
  const status = oneOf(text(root, 'status', path, true), STATUS, `${path}/status`)
  const msgType = oneOf(text(root, 'msgType', path, true), MSG_TYPES, `${path}/msgType`)
  const scope = oneOf(text(root, 'scope', path, true), SCOPES, `${path}/scope`)
  const addresses = parseAddresses(text(root, 'addresses', path, false), `${path}/addresses`)
  if (scope === 'Private' && addresses.length === 0)
    throw bad(`${path}/addresses`, 'required when scope is Private')
  const references = parseReferences(text(root, 'references', path, false), `${path}/references`)
  if ((msgType === 'Update' || msgType === 'Cancel') && references.length === 0) {
    throw bad(`${path}/references`, `required for msgType ${msgType}`)
  }
  return {
    identifier,
    sender,
    sent,
    status,
    msgType,
    scope,
    restriction: text(root, 'restriction', path, false),
    addresses,
    references,
    info: all(root, 'info').map((n, i) => parseInfo(n, `${path}/info/${i}`)),
  }
}
