import { nameProblem, normalizeText } from '@loa/control-plane/cli'
import { ID_PATTERN } from '@loa/shared'
import type { CsvProblem } from './csv.js'

/** One device to provision, from the command line (line 0) or a CSV row, before and after checking. */
export interface DeviceInput {
  line: number
  id: string
  unit: string
  name: string
  zones: string
  tags: string
  lat: string
  lon: string
  gpioLines: string
}

export interface DeviceRow {
  line: number
  id: string
  unitRef: string
  name: string
  zones: { id: string; name: string }[]
  tags: string[]
  lat: number | null
  lon: number | null
  gpioLines: number[] | null
}

const ID_RE = new RegExp(ID_PATTERN)
/** The agent's zone ids are stricter than the control plane's (they name GPIO holders and kv keys). */
const ZONE_ID_RE = /^[a-z0-9][a-z0-9-]{0,31}$/
const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/
const list = (s: string) =>
  s
    .split(/[;,|]/)
    .map((x) => x.trim())
    .filter(Boolean)

function parseNumber(raw: string, min: number, max: number): number | null | undefined {
  if (raw.trim() === '') return null
  const n = Number(raw)
  return Number.isFinite(n) && n >= min && n <= max ? n : undefined
}

/** Checks one device on its own; problems carry its line (0 for command-line flags). */
export function checkDevice(d: DeviceInput, problems: CsvProblem[]): DeviceRow | null {
  const at = (message: string) => problems.push({ line: d.line, message })
  const before = problems.length
  const id = d.id.trim()
  const name = normalizeText(d.name) || id
  if (!ID_RE.test(id)) at(`id: "${id}" không hợp lệ / is not a valid id (letters, digits, _ . -; max 64)`)
  if (d.unit.trim() === '') at('unit: trống / is empty')
  const np = nameProblem(name)
  if (np) at(`name: ${np}`)
  const zones: { id: string; name: string }[] = []
  for (const z of list(d.zones)) {
    const [zid = '', ...rest] = z.split(':')
    const zname = normalizeText(rest.join(':')) || zid
    if (!ZONE_ID_RE.test(zid)) at(`zones: "${zid}" không hợp lệ / is not a zone id (a-z, 0-9, -; max 32)`)
    else if (zones.some((x) => x.id === zid)) at(`zones: "${zid}" trùng / is repeated`)
    else if (nameProblem(zname)) at(`zones: "${zid}" name ${nameProblem(zname)}`)
    else zones.push({ id: zid, name: zname })
  }
  if (zones.length === 0) zones.push({ id: 'main', name })
  if (zones.length > 16) at('zones: tối đa 16 / at most 16')
  const tags = list(d.tags)
  for (const t of tags) if (!TAG_RE.test(t)) at(`tags: "${t}" không hợp lệ / is not a valid tag`)
  const lat = parseNumber(d.lat, -90, 90)
  const lon = parseNumber(d.lon, -180, 180)
  if (lat === undefined) at(`lat: "${d.lat}" không phải vĩ độ / is not a latitude`)
  if (lon === undefined) at(`lon: "${d.lon}" không phải kinh độ / is not a longitude`)
  let gpioLines: number[] | null = null
  if (d.gpioLines.trim() !== '') {
    gpioLines = list(d.gpioLines).map(Number)
    if (gpioLines.some((n) => !Number.isInteger(n) || n < 0 || n > 4095))
      at('gpio_lines: số nguyên / integers 0–4095')
    else if (gpioLines.length !== zones.length)
      at(`gpio_lines: cần ${zones.length} / needs one per zone (${zones.length})`)
  }
  if (problems.length > before) return null
  return {
    line: d.line,
    id,
    unitRef: d.unit.trim(),
    name,
    zones,
    tags,
    lat: lat ?? null,
    lon: lon ?? null,
    gpioLines,
  }
}
