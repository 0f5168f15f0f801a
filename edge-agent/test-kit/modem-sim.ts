// Test fixtures only: a socat pseudo-terminal pair and a simulated modem on its far end.
import { type ChildProcess, spawn } from 'node:child_process'
import { SerialPort } from 'serialport'

/** `socat -d -d pty,raw,echo=0 pty,raw,echo=0`: two connected pseudo-terminals, like a modem on a USB serial port. */
export async function ptyPair(): Promise<{ a: string; b: string; close: () => void }> {
  const child: ChildProcess = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const paths = await new Promise<string[]>((resolve, reject) => {
    let err = ''
    const found: string[] = []
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
      for (const m of d.toString().matchAll(/PTY is (\S+)/g)) found.push(m[1] as string)
      if (/starting data transfer loop/.test(err)) resolve(found)
    })
    child.once('exit', (code) => reject(new Error(`socat exited ${code}: ${err}`)))
  })
  return { a: paths[0] as string, b: paths[1] as string, close: () => child.kill('SIGTERM') }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A modem on the far end of a pty: echoes until `ATE0`, answers from `replies` (command → lines, the final result
 * code included), writes every line in two pieces (partial lines), and can be told to send garbage first, to slip
 * an unsolicited result code into the middle of a response, or to stop answering.
 */
export class ModemSim {
  readonly port: SerialPort
  echo = true
  silent = false
  garbageBefore = false
  urcInside: string | null = null
  readonly received: string[] = []
  private buf = ''
  private chain: Promise<void> = Promise.resolve()

  constructor(
    path: string,
    readonly replies: Record<string, string[]>,
  ) {
    this.port = new SerialPort({ path, baudRate: 115200 })
    this.port.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1')
      let i = this.buf.indexOf('\r')
      while (i >= 0) {
        const cmd = this.buf.slice(0, i).trim()
        this.buf = this.buf.slice(i + 1)
        if (cmd) this.chain = this.chain.then(() => this.answer(cmd))
        i = this.buf.indexOf('\r')
      }
    })
  }

  /** An unsolicited line, on its own. */
  urc(line: string): Promise<void> {
    return this.write(`\r\n${line}\r\n`)
  }

  close(): Promise<void> {
    return new Promise((r) => this.port.close(() => r()))
  }

  private async write(s: string): Promise<void> {
    const half = Math.ceil(s.length / 2)
    for (const part of [s.slice(0, half), s.slice(half)]) {
      this.port.write(Buffer.from(part, 'latin1'))
      await new Promise((r) => this.port.drain(r))
      await sleep(3)
    }
  }

  private async answer(cmd: string): Promise<void> {
    this.received.push(cmd)
    if (this.silent) return
    if (this.echo) await this.write(`${cmd}\r`)
    // Line noise as after a modem reset or a glitch on the USB line: bytes that are no part of any response.
    if (this.garbageBefore) await this.write('\x00\xff\xfe\x13\x88\x9b\x07\r\n\xff\xff\x1b')
    let lines: string[]
    if (cmd === 'AT') lines = ['OK']
    else if (cmd === 'ATE0') {
      this.echo = false
      lines = ['OK']
    } else lines = this.replies[cmd] ?? ['ERROR']
    for (const [i, l] of lines.entries()) {
      const noise = this.garbageBefore && i === lines.length - 1 ? '\x00\xfe\x81' : ''
      await this.write(`\r\n${noise}${l}\r\n`)
      if (i === 0 && this.urcInside && lines.length > 1) await this.write(`\r\n${this.urcInside}\r\n`)
    }
  }
}
