import type { Position } from './parse.js'

/** `$…*hh`: the XOR of the characters between `$` and `*`. A sentence without a checksum is refused. */
export function nmeaChecksumOk(sentence: string): boolean {
  const m = /^\$([^*]+)\*([0-9A-Fa-f]{2})$/.exec(sentence.trim())
  if (!m) return false
  let x = 0
  for (const c of m[1] as string) x ^= c.charCodeAt(0)
  return x === Number.parseInt(m[2] as string, 16)
}

/** `ddmm.mmmm` / `dddmm.mmmm` and a hemisphere → signed decimal degrees. */
function degrees(v: string, hemi: string): number | null {
  const m = /^(\d{2,3})(\d{2}\.\d+)$/.exec(v)
  if (!m) return null
  const d = Number(m[1]) + Number(m[2]) / 60
  return hemi === 'S' || hemi === 'W' ? -d : d
}

/**
 * Folds NMEA sentences (from the modem's GNSS port) into a position: `RMC` gives a valid fix with its date and
 * time, `GGA` adds altitude and satellites. Any talker (`GP`, `GN`, `GL`…). Returns the position after the
 * sentence, or null while there is no valid fix.
 */
export class NmeaReader {
  private pos: Position | null = null

  get position(): Position | null {
    return this.pos
  }

  feed(sentence: string): Position | null {
    const s = sentence.trim()
    if (!nmeaChecksumOk(s)) return this.pos
    const f = s.slice(1, s.indexOf('*')).split(',')
    const type = (f[0] ?? '').slice(2)
    if (type === 'RMC') {
      // $GPRMC,hhmmss.ss,A,lat,N,lon,E,speed,course,ddmmyy,…
      if (f[2] !== 'A') {
        this.pos = null
        return null
      }
      const lat = degrees(f[3] ?? '', f[4] ?? '')
      const lon = degrees(f[5] ?? '', f[6] ?? '')
      if (lat === null || lon === null) return this.pos
      const t = f[1] ?? ''
      const d = f[9] ?? ''
      const at =
        /^\d{6}/.test(t) && /^\d{6}$/.test(d)
          ? `20${d.slice(4, 6)}-${d.slice(2, 4)}-${d.slice(0, 2)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`
          : undefined
      this.pos = { ...this.pos, lat, lon, ...(at ? { at } : {}) }
    } else if (type === 'GGA') {
      // $GPGGA,hhmmss.ss,lat,N,lon,E,quality,nsat,hdop,alt,M,…
      if (!f[6] || f[6] === '0') return this.pos
      const lat = degrees(f[2] ?? '', f[3] ?? '')
      const lon = degrees(f[4] ?? '', f[5] ?? '')
      if (lat === null || lon === null) return this.pos
      const alt = Number(f[9])
      this.pos = {
        ...this.pos,
        lat,
        lon,
        satellites: Number(f[7]),
        ...(f[9] && Number.isFinite(alt) ? { altM: alt } : {}),
      }
    }
    return this.pos
  }
}
