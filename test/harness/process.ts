import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs'

export interface ManagedProcess {
  readonly child: ChildProcess
  readonly logPath: string
  /** Resolves with the first log line (parsed JSON) matching `test`. */
  waitForLog(
    test: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>
  /** Every JSON line logged so far. */
  lines(): Record<string, unknown>[]
  stop(signal?: NodeJS.Signals): Promise<number | null>
  kill9(): Promise<void>
  readonly exited: Promise<number | null>
}

/** Spawns a Node entry point as a real process, capturing its pino JSON logs to a file and in memory. */
export function startNode(
  entry: string,
  args: string[],
  env: Record<string, string>,
  logPath: string,
): ManagedProcess {
  const child = spawn(process.execPath, [entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log: WriteStream = createWriteStream(logPath, { flags: 'a' })
  const parsed: Record<string, unknown>[] = []
  const waiters: {
    test: (l: Record<string, unknown>) => boolean
    resolve: (l: Record<string, unknown>) => void
  }[] = []
  let buffer = ''
  const onData = (chunk: Buffer) => {
    log.write(chunk)
    buffer += chunk.toString('utf8')
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      nl = buffer.indexOf('\n')
      let obj: Record<string, unknown>
      try {
        obj = JSON.parse(line) as Record<string, unknown>
      } catch {
        obj = { msg: line, raw: true }
      }
      parsed.push(obj)
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]
        if (w?.test(obj)) {
          waiters.splice(i, 1)
          w.resolve(obj)
        }
      }
    }
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      log.end()
      resolve(code)
    })
  })
  return {
    child,
    logPath,
    exited,
    lines: () => parsed.slice(),
    waitForLog(test, timeoutMs = 30_000) {
      const found = parsed.find(test)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `process ${entry} did not log the expected line within ${timeoutMs} ms (see ${logPath})`,
            ),
          )
        }, timeoutMs)
        waiters.push({
          test,
          resolve: (l) => {
            clearTimeout(timer)
            resolve(l)
          },
        })
        void exited.then((code) => {
          clearTimeout(timer)
          reject(
            new Error(
              `process ${entry} exited with ${code} before logging the expected line (see ${logPath})`,
            ),
          )
        })
      })
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}

/** Pids of running processes whose command line mentions `text` (Linux /proc). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\u0000', ' ')
      if (cmdline.includes(text)) pids.push(Number(entry))
    } catch {
      // the process ended meanwhile
    }
  }
  return pids
}
