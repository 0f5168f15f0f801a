/** Parsers for the modem's answers (3GPP TS 27.007 and Quectel's GNSS commands). Each returns null if unreadable. */

/** `+CSQ: <rssi>,<ber>`: rssi 0–31 is −113 dBm + 2 per step; 99 is "not known". */
export function parseCsq(lines: string[]): number | null {
  const m = /^\+CSQ:\s*(\d+),/.exec(lines.find((l) => l.startsWith('+CSQ:')) ?? '')
  const rssi = m ? Number(m[1]) : 99
  return rssi >= 0 && rssi <= 31 ? -113 + 2 * rssi : null
}

export type Registration = 'home' | 'roaming' | 'searching' | 'denied' | 'not-registered' | 'unknown'
const REG: Record<string, Registration> = {
  '0': 'not-registered',
  '1': 'home',
  '2': 'searching',
  '3': 'denied',
  '4': 'unknown',
  '5': 'roaming',
}

/** `+CREG: <n>,<stat>[,…]` (also `+CEREG:`/`+CGREG:`, and the URC form `+CREG: <stat>[,…]`). */
export function parseReg(lines: string[], prefix: '+CREG:' | '+CEREG:' | '+CGREG:'): Registration | null {
  const line = lines.find((l) => l.startsWith(prefix))
  if (!line) return null
  const f = line
    .slice(prefix.length)
    .split(',')
    .map((x) => x.trim().replace(/"/g, ''))
  // The read form has <n> first; a URC has the status first (then a quoted LAC if any).
  const stat = f.length >= 2 && /^\d$/.test(f[1] ?? '') ? f[1] : f[0]
  return REG[stat ?? ''] ?? null
}

const ACT: Record<string, string> = {
  '0': 'gsm',
  '2': 'umts',
  '3': 'edge',
  '4': 'hsdpa',
  '6': 'hspa',
  '7': 'lte',
  '13': 'nr5g',
}

/** `+COPS: <mode>[,<format>,"<oper>"[,<AcT>]]`. */
export function parseCops(lines: string[]): { operator: string; accessTech: string | null } | null {
  const m = /^\+COPS:\s*\d+,\d+,"([^"]*)"(?:,(\d+))?/.exec(lines.find((l) => l.startsWith('+COPS:')) ?? '')
  if (!m) return null
  return { operator: m[1] as string, accessTech: m[2] !== undefined ? (ACT[m[2]] ?? `act-${m[2]}`) : null }
}

/** `+CCID: 8984…`, `+QCCID: 8984…`, `+ICCID: …` or the bare digits (some modems): 18–22 digits, maybe a trailing F. */
export function parseIccid(lines: string[]): string | null {
  for (const l of lines) {
    const m = /^(?:\+Q?I?CCID:\s*)?"?(\d{18,22})F?"?$/i.exec(l.trim())
    if (m) return m[1] as string
  }
  return null
}

export interface Position {
  lat: number
  lon: number
  altM?: number
  /** ISO UTC of the fix, when the source gives a date. */
  at?: string
  satellites?: number
}

/** Quectel `AT+QGPSLOC=2`: `+QGPSLOC: <hhmmss.sss>,<lat>,<lon>,<hdop>,<alt>,<fix>,<cog>,<spkm>,<spkn>,<ddmmyy>,<nsat>`. */
export function parseQgpsloc(lines: string[]): Position | null {
  const line = lines.find((l) => l.startsWith('+QGPSLOC:'))
  if (!line) return null
  const f = line
    .slice('+QGPSLOC:'.length)
    .split(',')
    .map((x) => x.trim())
  const lat = Number(f[1])
  const lon = Number(f[2])
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || f[1] === '' || f[2] === '') return null
  const p: Position = { lat, lon }
  if (f[4] && Number.isFinite(Number(f[4]))) p.altM = Number(f[4])
  const t = f[0] ?? ''
  const d = f[9] ?? ''
  if (/^\d{6}/.test(t) && /^\d{6}$/.test(d)) {
    p.at = `20${d.slice(4, 6)}-${d.slice(2, 4)}-${d.slice(0, 2)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`
  }
  if (f[10] && /^\d+$/.test(f[10])) p.satellites = Number(f[10])
  return p
}
