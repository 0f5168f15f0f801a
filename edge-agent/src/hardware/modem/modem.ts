import type { Logger } from 'pino'
import type { SerialPort } from 'serialport'
import { describeError } from '../../errors.js'
import type { Outbox } from '../../link/outbox.js'
import { AtClient } from './at-client.js'
import { NmeaReader } from './nmea.js'
import {
  type Position,
  parseCops,
  parseCsq,
  parseIccid,
  parseQgpsloc,
  parseReg,
  type Registration,
} from './parse.js'

export interface ModemStatus {
  /** Received signal strength from AT+CSQ, dBm; null when the modem does not know. */
  signalDbm: number | null
  /** LTE (AT+CEREG?) when registered there, else circuit-switched (AT+CREG?). */
  registration: Registration | null
  operator?: string
  accessTech?: string | null
  iccid?: string
}

export interface ModemOptions {
  /** Prefer `/dev/serial/by-id/…`: ttyUSB numbers move when the modem resets. */
  port: string
  baudRate: number
  gps: 'off' | 'qgpsloc' | 'nmea'
  gpsPort?: string
  outbox: Outbox
  log: Logger
  pollMs: number
  commandTimeoutMs?: number
}

const REOPEN_MIN_MS = 2_000
const REOPEN_MAX_MS = 60_000

/** A serial port that reopens itself with backoff (USB modems vanish and come back when they reset). */
class Line {
  port: SerialPort | null = null
  private timer: NodeJS.Timeout | null = null
  private delay = REOPEN_MIN_MS
  private stopped = false

  constructor(
    private readonly path: string,
    private readonly baudRate: number,
    private readonly opened: (p: SerialPort) => void,
    private readonly failed: (why: string) => void,
  ) {}

  open(): void {
    if (this.stopped) return
    // Loaded on first use: the native binding costs ~0.5 s of start-up on a Pi, and most boxes have no modem.
    import('serialport').then(
      ({ SerialPort: Port }) =>
        this.openWith(new Port({ path: this.path, baudRate: this.baudRate, autoOpen: false })),
      (err: Error) => this.retry(`serialport: ${err.message}`),
    )
  }

  private openWith(p: SerialPort): void {
    if (this.stopped) return
    p.open((err) => {
      if (err) return this.retry(err.message)
      if (this.stopped) return p.close()
      this.delay = REOPEN_MIN_MS
      this.port = p
      p.once('close', () => {
        this.port = null
        this.retry('port closed')
      })
      p.on('error', () => {})
      this.opened(p)
    })
  }

  private retry(why: string): void {
    if (this.stopped) return
    this.failed(why)
    this.timer = setTimeout(() => this.open(), this.delay)
    this.delay = Math.min(REOPEN_MAX_MS, this.delay * 2)
  }

  close(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.port?.isOpen) this.port.close()
  }
}

/**
 * The 4G modem: signal, registration, operator and SIM ICCID every `pollMs` over AT commands, and the position
 * from the modem's GNSS (`AT+QGPSLOC=2`, or NMEA sentences on its second port). The latest values go into
 * telemetry; the modem being unreachable is an event (`modem-fault`, then `modem-recovered`), never a crash.
 */
export class Modem {
  private at: AtClient | null = null
  private line: Line
  private gpsLine: Line | null = null
  private readonly nmea = new NmeaReader()
  private timer: NodeJS.Timeout | null = null
  private latest: ModemStatus | null = null
  private qgpsPos: Position | null = null
  private faulty = false
  private polling = false
  private stopped = false

  constructor(private readonly o: ModemOptions) {
    this.line = new Line(
      o.port,
      o.baudRate,
      (p) => {
        this.at?.close()
        this.at = new AtClient(p, { onUrc: (l) => this.urc(l), defaultTimeoutMs: o.commandTimeoutMs })
        void this.poll()
      },
      (why) => {
        this.at?.close()
        this.at = null
        this.fault(`${o.port}: ${why}`)
      },
    )
    if (o.gps === 'nmea' && o.gpsPort) {
      let buf = ''
      this.gpsLine = new Line(
        o.gpsPort,
        o.baudRate,
        (p) =>
          p.on('data', (d: Buffer) => {
            buf += d.toString('latin1')
            const lines = buf.split(/\r?\n/)
            buf = (lines.pop() ?? '').slice(-512)
            for (const l of lines) this.nmea.feed(l)
          }),
        (why) => this.o.log.warn({ why }, 'gps port unavailable'),
      )
    }
  }

  start(): void {
    this.line.open()
    this.gpsLine?.open()
    this.timer = setInterval(() => void this.poll(), this.o.pollMs)
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.at?.close()
    this.line.close()
    this.gpsLine?.close()
  }

  /** The latest values, for telemetry (absent until the first successful poll). */
  status(): { modem?: ModemStatus; position?: Position } {
    const position = this.o.gps === 'nmea' ? this.nmea.position : this.qgpsPos
    return { ...(this.latest ? { modem: this.latest } : {}), ...(position ? { position } : {}) }
  }

  /** One round of queries; each failing query only leaves its value out. */
  async poll(): Promise<ModemStatus | null> {
    const at = this.at
    if (!at || this.polling) return this.latest
    this.polling = true
    try {
      const ask = async (cmd: string) => (await at.send(cmd)).lines
      const tryAsk = (cmd: string) => ask(cmd).catch(() => null)
      const csq = await ask('AT+CSQ') // the one that must answer: it tells whether the modem is there at all
      const eps = await tryAsk('AT+CEREG?')
      const cs = await tryAsk('AT+CREG?')
      const lte = eps ? parseReg(eps, '+CEREG:') : null
      const s: ModemStatus = {
        signalDbm: parseCsq(csq),
        registration:
          lte === 'home' || lte === 'roaming' ? lte : ((cs ? parseReg(cs, '+CREG:') : null) ?? lte),
      }
      const cops = await tryAsk('AT+COPS?')
      const op = cops ? parseCops(cops) : null
      if (op) {
        s.operator = op.operator
        s.accessTech = op.accessTech
      }
      const iccid = this.latest?.iccid ?? (await this.iccid(tryAsk))
      if (iccid) s.iccid = iccid
      if (this.o.gps === 'qgpsloc') {
        // +CME ERROR: 516 means "no fix yet": keep no position rather than a stale one.
        const loc = await tryAsk('AT+QGPSLOC=2')
        this.qgpsPos = loc ? parseQgpsloc(loc) : null
      }
      this.latest = s
      if (this.faulty) {
        this.faulty = false
        this.o.outbox.event('modem-recovered', 'info', `modem on ${this.o.port} answers again`, {})
      }
      return s
    } catch (err) {
      this.fault(describeError(err).details.join('; '))
      return null
    } finally {
      this.polling = false
    }
  }

  private async iccid(ask: (cmd: string) => Promise<string[] | null>): Promise<string | null> {
    for (const cmd of ['AT+CCID', 'AT+QCCID', 'AT+ICCID']) {
      const lines = await ask(cmd)
      const id = lines ? parseIccid(lines) : null
      if (id) return id
    }
    return null
  }

  private urc(line: string): void {
    this.o.log.debug({ urc: line }, 'modem urc')
    for (const prefix of ['+CEREG:', '+CREG:'] as const) {
      const reg = line.startsWith(prefix) ? parseReg([line], prefix) : null
      if (reg && this.latest) this.latest = { ...this.latest, registration: reg }
    }
  }

  /** Reported once per outage; the log has every occurrence. */
  private fault(why: string): void {
    // Stopping closes the port under an in-flight poll: that is no fault.
    if (this.stopped) return
    this.o.log.warn({ why }, 'modem fault')
    if (this.faulty) return
    this.faulty = true
    this.latest = null
    this.o.outbox.event('modem-fault', 'warning', `modem on ${this.o.port}: ${why}`.slice(0, 500), {
      port: this.o.port,
    })
  }
}
