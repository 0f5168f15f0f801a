import { AgentError } from '../../errors.js'

/** The byte stream to the modem: a serialport `SerialPort` in production and in the tests (on a socat pty). */
export interface AtPort {
  write(data: string): unknown
  on(event: 'data', cb: (chunk: Buffer) => void): unknown
  off(event: 'data', cb: (chunk: Buffer) => void): unknown
}

export interface AtResponse {
  /** Information lines between the command and its final result code (echo and URCs removed). */
  lines: string[]
}

interface Pending {
  command: string
  /** `+CSQ:` for `AT+CSQ`: such lines belong to the response even when they look like a URC. */
  prefix: string | null
  timeoutMs: number
  lines: string[]
  resolve: (r: AtResponse) => void
  reject: (err: Error) => void
  timer?: NodeJS.Timeout
}

const FINAL_OK = /^OK$/
const FINAL_ERROR = /^(ERROR|\+CME ERROR:.*|\+CMS ERROR:.*|NO CARRIER|COMMAND NOT SUPPORT)$/
/** Lines a modem sends on its own: never part of another command's response. */
const URC =
  /^(RING|\+CRING:|\+CREG:|\+CEREG:|\+CGREG:|\+CMTI:|\+CLIP:|\+QIND:|\+QUSIM:|\+CPIN:|\+QGPSURC:|\^|RDY$|POWERED DOWN$|\+CGEV:|\+QIURC:|\+CUSD:)/
const MAX_LINE = 1024

/** `AT+CSQ` → `+CSQ:`, `AT+CREG?` → `+CREG:`, `AT+QGPSLOC=2` → `+QGPSLOC:`. */
export function responsePrefix(command: string): string | null {
  const m = /^AT([+^$#][A-Z0-9]+)/i.exec(command)
  return m ? `${(m[1] as string).toUpperCase()}:` : null
}

/**
 * An AT-command client. One command at a time (a queue), each with its own timeout; a response is framed up to
 * its final result code (`OK`, `ERROR`, `+CME ERROR: n`, `+CMS ERROR: n`). Unsolicited result codes (`RING`,
 * `+CREG: …`) go to `onUrc` even in the middle of a response. Line noise is stripped (non-printable bytes, lines
 * longer than 1 KiB); after a timeout the next command first resynchronises with a bare `AT` until `OK`.
 */
export class AtClient {
  private buf = ''
  private current: Pending | null = null
  private readonly queue: Pending[] = []
  private synced = false
  private closed = false
  /** A command (or the resynchronisation before it) is in progress: the queue waits. */
  private busy = false
  private readonly onData = (chunk: Buffer) => this.receive(chunk)

  constructor(
    private readonly port: AtPort,
    private readonly o: {
      onUrc?: (line: string) => void
      defaultTimeoutMs?: number
      syncTimeoutMs?: number
    } = {},
  ) {
    port.on('data', this.onData)
  }

  /** Sends `command` (without CR) and resolves with its information lines; rejects on error or timeout. */
  send(command: string, timeoutMs = this.o.defaultTimeoutMs ?? 3000): Promise<AtResponse> {
    if (this.closed) return Promise.reject(new AgentError('LOA_MODEM_CLOSED', [command]))
    return new Promise((resolve, reject) => {
      this.queue.push({ command, prefix: responsePrefix(command), timeoutMs, lines: [], resolve, reject })
      if (!this.busy) void this.next()
    })
  }

  /** Rejects everything queued and stops listening (the port itself belongs to the caller). */
  close(): void {
    this.closed = true
    this.port.off('data', this.onData)
    const err = new AgentError('LOA_MODEM_CLOSED', ['closed'])
    if (this.current) {
      clearTimeout(this.current.timer)
      this.current.reject(err)
      this.current = null
    }
    for (const p of this.queue.splice(0)) p.reject(err)
  }

  private async next(): Promise<void> {
    const p = this.queue.shift()
    this.busy = p !== undefined && !this.closed
    if (!this.busy || !p) return
    if (!this.synced) {
      // Echo off makes framing simpler; the echo of `AT` itself is dropped by receive() anyway.
      const t = this.o.syncTimeoutMs ?? 1500
      const ok = await this.exchange('AT', t)
        .then(() => this.exchange('ATE0', t))
        .then(
          () => true,
          () => false,
        )
      if (this.closed) {
        p.reject(new AgentError('LOA_MODEM_CLOSED', [p.command]))
        return
      }
      if (!ok) {
        p.reject(new AgentError('LOA_MODEM_TIMEOUT', [`${p.command}: no OK to AT (resynchronising)`]))
        void this.next()
        return
      }
      this.synced = true
    }
    this.run(p)
  }

  /** One command outside the queue (used to resynchronise). */
  private exchange(command: string, timeoutMs: number): Promise<AtResponse> {
    return new Promise((resolve, reject) => {
      this.run({ command, prefix: null, timeoutMs, lines: [], resolve, reject }, true)
    })
  }

  private run(p: Pending, internal = false): void {
    this.current = p
    const settle = (fn: () => void) => {
      clearTimeout(p.timer)
      if (this.current === p) this.current = null
      fn()
      if (!internal) void this.next()
    }
    const resolve = p.resolve
    const reject = p.reject
    p.resolve = (r) => settle(() => resolve(r))
    p.reject = (e) => settle(() => reject(e))
    p.timer = setTimeout(() => {
      this.synced = false
      this.buf = ''
      p.reject(
        new AgentError('LOA_MODEM_TIMEOUT', [`${p.command}: no final result within ${p.timeoutMs} ms`]),
      )
    }, p.timeoutMs)
    this.port.write(`${p.command}\r`)
  }

  private receive(chunk: Buffer): void {
    // Line noise (and any non-ASCII) is dropped: AT responses and NMEA are printable ASCII.
    this.buf += chunk.toString('latin1').replace(/[^\x20-\x7e\r\n]/g, '')
    let i = this.buf.search(/[\r\n]/)
    while (i >= 0) {
      const line = this.buf.slice(0, i).trim()
      this.buf = this.buf.slice(i + 1)
      if (line) this.line(line)
      i = this.buf.search(/[\r\n]/)
    }
    if (this.buf.length > MAX_LINE) this.buf = ''
  }

  private line(line: string): void {
    const p = this.current
    if (!p) {
      if (line !== 'OK') this.o.onUrc?.(line)
      return
    }
    if (line === p.command) return // echo
    if (FINAL_OK.test(line)) p.resolve({ lines: p.lines })
    else if (FINAL_ERROR.test(line)) p.reject(new AgentError('LOA_MODEM_ERROR', [`${p.command}: ${line}`]))
    else if (p.prefix && line.toUpperCase().startsWith(p.prefix)) p.lines.push(line)
    else if (URC.test(line)) this.o.onUrc?.(line)
    else p.lines.push(line)
  }
}
