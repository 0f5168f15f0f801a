import { Writable } from 'node:stream'

export interface LogLine {
  at: string
  level: string
  msg: string
  /** The component (`c` child binding), when there is one. */
  c?: string
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
}

/**
 * The last log lines, for the technician's page: pino writes every line here as well as to stdout (journald),
 * and only time, level, component and message are kept, never the other fields.
 */
export class LogRing extends Writable {
  private readonly lines: LogLine[] = []

  constructor(private readonly max = 200) {
    super()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    for (const raw of chunk.toString('utf8').split('\n')) {
      if (!raw.trim()) continue
      try {
        const j = JSON.parse(raw) as { time?: number; level?: number; msg?: string; c?: string }
        this.lines.push({
          at: new Date(j.time ?? Date.now()).toISOString(),
          level: LEVELS[j.level ?? 30] ?? String(j.level),
          msg: String(j.msg ?? '').slice(0, 300),
          ...(j.c ? { c: j.c } : {}),
        })
      } catch {
        this.lines.push({ at: new Date().toISOString(), level: 'info', msg: raw.slice(0, 300) })
      }
      if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max)
    }
    cb()
  }

  recent(n = 100): LogLine[] {
    return this.lines.slice(-n).reverse()
  }
}
