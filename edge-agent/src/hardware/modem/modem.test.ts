import { join } from 'node:path'
import { SerialPort } from 'serialport'
import { afterEach, describe, expect, it } from 'vitest'
import { ModemSim, ptyPair } from '../../../test-kit/modem-sim.js'
import { silentLog, tmp } from '../../../test-kit/test-helpers.js'
import { Outbox } from '../../link/outbox.js'
import { openDb } from '../../storage/db.js'
import { Modem } from './modem.js'
import { NmeaReader, nmeaChecksumOk } from './nmea.js'
import { parseCops, parseCsq, parseIccid, parseQgpsloc, parseReg } from './parse.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

/** Appends the NMEA checksum. */
const nmea = (body: string) => {
  let x = 0
  for (const c of body) x ^= c.charCodeAt(0)
  return `$${body}*${x.toString(16).toUpperCase().padStart(2, '0')}`
}

describe('modem answer parsers', () => {
  it('CSQ → dBm, 99 unknown', () => {
    expect(parseCsq(['+CSQ: 20,99'])).toBe(-73)
    expect(parseCsq(['+CSQ: 0,0'])).toBe(-113)
    expect(parseCsq(['+CSQ: 99,99'])).toBeNull()
    expect(parseCsq([])).toBeNull()
  })
  it('registration: read form and URC form', () => {
    expect(parseReg(['+CREG: 0,1'], '+CREG:')).toBe('home')
    expect(parseReg(['+CEREG: 2,5,"1A2B","01C3D4E5",7'], '+CEREG:')).toBe('roaming')
    expect(parseReg(['+CREG: 3'], '+CREG:')).toBe('denied')
    expect(parseReg(['+CREG: 2,"1A2B","01C3D4E5",7'], '+CREG:')).toBe('searching')
    expect(parseReg(['+CSQ: 1,1'], '+CREG:')).toBeNull()
  })
  it('operator and access technology; ICCID in its several forms', () => {
    expect(parseCops(['+COPS: 0,0,"Viettel",7'])).toEqual({ operator: 'Viettel', accessTech: 'lte' })
    expect(parseCops(['+COPS: 0,0,"VN VINAPHONE"'])).toEqual({ operator: 'VN VINAPHONE', accessTech: null })
    expect(parseCops(['+COPS: 0'])).toBeNull()
    expect(parseIccid(['+CCID: 8984048000123456789F'])).toBe('8984048000123456789')
    expect(parseIccid(['+QCCID: 89840480001234567890'])).toBe('89840480001234567890')
    expect(parseIccid(['89840480001234567890'])).toBe('89840480001234567890')
    expect(parseIccid(['+CCID: 12'])).toBeNull()
  })
  it('QGPSLOC=2 and NMEA (RMC, GGA; checksum checked; no fix → none)', () => {
    expect(
      parseQgpsloc(['+QGPSLOC: 031523.000,21.02851,105.85422,1.2,15.0,3,0.00,0.0,0.0,271126,07']),
    ).toEqual({ lat: 21.02851, lon: 105.85422, altM: 15, at: '2026-11-27T03:15:23Z', satellites: 7 })
    const r = new NmeaReader()
    expect(nmeaChecksumOk(nmea('GPRMC,031523.00,A,2101.7106,N,10551.2532,E,0.0,0.0,271126,,,A'))).toBe(true)
    expect(r.feed('$GPRMC,031523.00,A,2101.7106,N,10551.2532,E,0.0,0.0,271126,,,A*00')).toBeNull()
    r.feed(nmea('GPRMC,031523.00,A,2101.7106,N,10551.2532,E,0.0,0.0,271126,,,A'))
    const p = r.feed(nmea('GNGGA,031524.00,2101.7106,N,10551.2532,E,1,08,1.0,15.3,M,-20.1,M,,'))
    expect(p?.lat).toBeCloseTo(21.02851, 5)
    expect(p?.lon).toBeCloseTo(105.85422, 5)
    expect(p).toMatchObject({ altM: 15.3, satellites: 8, at: '2026-11-27T03:15:23Z' })
    expect(r.feed(nmea('GPRMC,031525.00,A,3352.0000,S,15112.0000,W,0,0,271126,,,A'))?.lat).toBeCloseTo(
      -33.8667,
      3,
    )
    expect(r.feed(nmea('GPRMC,031526.00,V,,,,,,,271126,,,N'))).toBeNull()
  })
})

describe('Modem (simulated modem on a socat pty)', () => {
  async function setup(gps: 'off' | 'qgpsloc' | 'nmea' = 'qgpsloc', gpsPort?: string) {
    const pair = await ptyPair()
    cleanup.push(pair.close)
    const sim = new ModemSim(pair.b, {
      'AT+CSQ': ['+CSQ: 17,99', 'OK'],
      'AT+CEREG?': ['+CEREG: 0,1', 'OK'],
      'AT+CREG?': ['+CREG: 0,0', 'OK'],
      'AT+COPS?': ['+COPS: 0,0,"Viettel",7', 'OK'],
      'AT+CCID': ['ERROR'],
      'AT+QCCID': ['+QCCID: 8984048000123456789F', 'OK'],
      'AT+QGPSLOC=2': ['+QGPSLOC: 031523.000,21.02851,105.85422,1.2,15.0,3,0.00,0.0,0.0,271126,07', 'OK'],
    })
    cleanup.push(() => sim.close())
    const db = openDb(join(tmp(), 'agent.db'))
    cleanup.push(() => db.close())
    const modem = new Modem({
      port: pair.a,
      baudRate: 115200,
      gps,
      gpsPort,
      outbox: new Outbox(db),
      log: silentLog,
      pollMs: 60_000,
      commandTimeoutMs: 600,
    })
    cleanup.push(() => modem.stop())
    const events = () =>
      (db.prepare("SELECT body FROM outbox WHERE channel = 'event'").all() as { body: string }[]).map(
        (r) => JSON.parse(r.body).kind as string,
      )
    return { sim, modem, events }
  }

  it('polls signal, registration, operator, ICCID (falling back to AT+QCCID) and the QGPSLOC position', async () => {
    const { modem } = await setup()
    modem.start()
    await expect.poll(() => modem.status().modem, { timeout: 10_000 }).toBeDefined()
    expect(modem.status()).toEqual({
      modem: {
        signalDbm: -79,
        registration: 'home',
        operator: 'Viettel',
        accessTech: 'lte',
        iccid: '8984048000123456789',
      },
      position: { lat: 21.02851, lon: 105.85422, altM: 15, at: '2026-11-27T03:15:23Z', satellites: 7 },
    })
  })

  it('a silent modem is one modem-fault event and no stale values; answering again is modem-recovered', async () => {
    const { sim, modem, events } = await setup('off')
    modem.start()
    await expect.poll(() => modem.status().modem, { timeout: 10_000 }).toBeDefined()
    sim.silent = true
    expect(await modem.poll()).toBeNull()
    expect(await modem.poll()).toBeNull()
    expect(modem.status()).toEqual({})
    expect(events()).toEqual(['modem-fault'])
    sim.silent = false
    expect((await modem.poll())?.signalDbm).toBe(-79)
    expect(events()).toEqual(['modem-fault', 'modem-recovered'])
  })

  it('reads the position from NMEA sentences on the GNSS port, split across writes', async () => {
    const gps = await ptyPair()
    cleanup.push(gps.close)
    const { modem } = await setup('nmea', gps.a)
    modem.start()
    const out = new SerialPort({ path: gps.b, baudRate: 115200 })
    cleanup.push(() => new Promise((r) => out.close(() => r(undefined))))
    await new Promise<void>((r) => out.once('open', () => r()))
    const text = `${nmea('GPGSV,1,1,00')}\r\n${nmea('GPRMC,031523.00,A,2101.7106,N,10551.2532,E,0.0,0.0,271126,,,A')}\r\n`
    out.write(text.slice(0, 30))
    await new Promise((r) => setTimeout(r, 20))
    out.write(text.slice(30))
    await expect.poll(() => modem.status().position?.lat, { timeout: 10_000 }).toBeCloseTo(21.02851, 5)
  })
})
