import { XMLParser, XMLValidator } from 'fast-xml-parser'
import type { Circle, LatLon } from './domain.js'
import { LoaError } from './errors.js'
import { ringProblem } from './geo.js'

/** An OASIS CAP 1.2 alert, reduced to what Loa acts on, with every required element checked. */
export interface CapAlert {
  identifier: string
  sender: string
  sent: string
  status: 'Actual' | 'Exercise' | 'System' | 'Test' | 'Draft'
  msgType: 'Alert' | 'Update' | 'Cancel' | 'Ack' | 'Error'
  scope: string
  references: { sender: string; identifier: string; sent: string }[]
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
  effective: string | null
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

export const CAP_NS = 'urn:oasis:names:tc:emergency:cap:1.2'
const STATUS = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const
const MSG_TYPES = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const
const SCOPES = ['Public', 'Restricted', 'Private']
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
]
const URGENCY = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown']
const SEVERITY = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown']
const CERTAINTY = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown', 'Very Likely']
/** CAP dateTime: always with an explicit offset (CAP forbids "Z", but we accept it: being liberal costs nothing). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$/

const ARRAYS = new Set([
  'info',
  'area',
  'resource',
  'polygon',
  'circle',
  'geocode',
  'category',
  'parameter',
  'eventCode',
  'responseType',
  'code',
])

const bad = (path: string, problem: string) => new LoaError('LOA_CAP_INVALID', `${path}: ${problem}`)

type Node = Record<string, unknown>

function text(node: Node, key: string, path: string, required: true): string
function text(node: Node, key: string, path: string, required: false): string | null
function text(node: Node, key: string, path: string, required: boolean): string | null {
  const v = node[key]
  if (v === undefined || v === null || v === '') {
    if (required) throw bad(`${path}/${key}`, 'required element missing')
    return null
  }
  if (typeof v !== 'string') throw bad(`${path}/${key}`, 'expected text')
  return v.trim()
}

function oneOf(v: string, allowed: readonly string[], path: string): string {
  if (!allowed.includes(v)) throw bad(path, `expected one of ${allowed.join(', ')}, got "${v.slice(0, 50)}"`)
  return v
}

function dateTime(v: string, path: string): string {
  if (!DATE_TIME.test(v) || !Number.isFinite(Date.parse(v))) {
    throw bad(
      path,
      `expected a date-time with offset like 2026-11-27T08:00:00+07:00, got "${v.slice(0, 50)}"`,
    )
  }
  return new Date(Date.parse(v)).toISOString()
}

function nodes(node: Node, key: string, path: string): Node[] {
  const v = node[key]
  if (v === undefined) return []
  const list = Array.isArray(v) ? v : [v]
  return list.map((x, i) => {
    if (typeof x !== 'object' || x === null)
      throw bad(`${path}/${key}/${i}`, 'expected an element with children')
    return x as Node
  })
}

function texts(node: Node, key: string): string[] {
  const v = node[key]
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string').map((x) => x.trim())
}

function point(p: string, path: string): LatLon {
  const [lat, lon, ...rest] = p.split(',').map(Number)
  if (
    rest.length > 0 ||
    lat === undefined ||
    lon === undefined ||
    !Number.isFinite(lat) ||
    !Number.isFinite(lon)
  ) {
    throw bad(path, `expected "lat,lon", got "${p.slice(0, 40)}"`)
  }
  return [lat, lon]
}

function parseArea(a: Node, path: string): CapArea {
  const areaDesc = text(a, 'areaDesc', path, true)
  const polygons = texts(a, 'polygon').map((s, i) => {
    const ring = s
      .split(/\s+/)
      .filter(Boolean)
      .map((p) => point(p, `${path}/polygon/${i}`))
    const problem = ringProblem(ring)
    if (problem) throw bad(`${path}/polygon/${i}`, problem)
    return ring
  })
  const circles = texts(a, 'circle').map((s, i): Circle => {
    const [center, radius, ...rest] = s.split(/\s+/).filter(Boolean)
    const r = Number(radius)
    if (!center || rest.length > 0 || !Number.isFinite(r) || r < 0) {
      throw bad(`${path}/circle/${i}`, `expected "lat,lon radiusKm", got "${s.slice(0, 40)}"`)
    }
    const [lat, lon] = point(center, `${path}/circle/${i}`)
    return { lat, lon, radiusKm: r }
  })
  const geocodes = nodes(a, 'geocode', path).map((g, i) => ({
    valueName: text(g, 'valueName', `${path}/geocode/${i}`, true),
    value: text(g, 'value', `${path}/geocode/${i}`, true),
  }))
  return { areaDesc, polygons, circles, geocodes }
}

function parseInfo(n: Node, path: string): CapInfo {
  const categories = texts(n, 'category')
  if (categories.length === 0) throw bad(`${path}/category`, 'required element missing')
  for (const [i, c] of categories.entries()) oneOf(c, CATEGORIES, `${path}/category/${i}`)
  const expires = text(n, 'expires', path, false)
  const effective = text(n, 'effective', path, false)
  const areas = nodes(n, 'area', path).map((a, i) => parseArea(a, `${path}/area/${i}`))
  const resources = nodes(n, 'resource', path).map((r, i) => ({
    resourceDesc: text(r, 'resourceDesc', `${path}/resource/${i}`, true),
    mimeType: text(r, 'mimeType', `${path}/resource/${i}`, true),
    derefUri: text(r, 'derefUri', `${path}/resource/${i}`, false)?.replace(/\s+/g, '') ?? null,
    uri: text(r, 'uri', `${path}/resource/${i}`, false),
  }))
  return {
    language: text(n, 'language', path, false) ?? 'en-US',
    categories,
    event: text(n, 'event', path, true),
    urgency: oneOf(text(n, 'urgency', path, true), URGENCY, `${path}/urgency`),
    severity: oneOf(text(n, 'severity', path, true), SEVERITY, `${path}/severity`),
    certainty: oneOf(text(n, 'certainty', path, true), CERTAINTY, `${path}/certainty`),
    headline: text(n, 'headline', path, false),
    description: text(n, 'description', path, false),
    instruction: text(n, 'instruction', path, false),
    effective: effective ? dateTime(effective, `${path}/effective`) : null,
    expires: expires ? dateTime(expires, `${path}/expires`) : null,
    resources,
    areas,
  }
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  // Identifiers like "007" must stay text.
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (name) => ARRAYS.has(name),
})

/** Parses and validates a CAP 1.2 document; every failure names the element, e.g. `alert/info/0/severity`. */
export function parseCap(xml: string): CapAlert {
  // CAP never needs a DTD; refusing one rules out entity-expansion tricks.
  if (/<!DOCTYPE/i.test(xml)) throw bad('alert', 'a DOCTYPE is not allowed')
  const valid = XMLValidator.validate(xml)
  if (valid !== true)
    throw bad('xml', `not well-formed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`)
  const doc = parser.parse(xml) as Node
  const alert = doc.alert
  if (typeof alert !== 'object' || alert === null) throw bad('alert', 'the root element must be <alert>')
  if (!xml.includes(CAP_NS)) {
    throw new LoaError(
      'LOA_CAP_UNSUPPORTED',
      `alert: namespace must be ${CAP_NS} (only CAP 1.2 is supported)`,
    )
  }
  const a = alert as Node
  const path = 'alert'
  const identifier = text(a, 'identifier', path, true)
  const sender = text(a, 'sender', path, true)
  const sent = dateTime(text(a, 'sent', path, true), `${path}/sent`)
  const status = oneOf(text(a, 'status', path, true), STATUS, `${path}/status`) as CapAlert['status']
  const msgType = oneOf(text(a, 'msgType', path, true), MSG_TYPES, `${path}/msgType`) as CapAlert['msgType']
  const references = (text(a, 'references', path, false) ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((r, i) => {
      const [sender, identifier, sent, ...rest] = r.split(',')
      if (!sender || !identifier || !sent || rest.length > 0) {
        throw bad(`${path}/references/${i}`, `expected "sender,identifier,sent", got "${r.slice(0, 80)}"`)
      }
      return { sender, identifier, sent }
    })
  const info = nodes(a, 'info', path).map((n, i) => parseInfo(n, `${path}/info/${i}`))
  const cap: CapAlert = {
    identifier,
    sender,
    sent,
    status,
    msgType,
    scope: oneOf(text(a, 'scope', path, true), SCOPES, `${path}/scope`),
    references,
    info,
  }
  if ((msgType === 'Update' || msgType === 'Cancel') && references.length === 0) {
    throw bad(`${path}/references`, `required for msgType ${msgType}`)
  }
  return cap
}
