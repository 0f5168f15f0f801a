import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'

/** How a media tool (ffmpeg, ffprobe, espeak-ng) may run: OS priority and what it may spend. */
export interface ProcessBudget {
  /** Niceness (0–19): ordinary media work yields the CPU to alert work and to the control plane itself. */
  nice: number
  /** CPU seconds (user + system) before the process is killed; read from /proc, so Linux only. */
  cpuSeconds: number
  /** Wall-clock backstop, for a tool stuck without using CPU (and where /proc is missing). */
  wallSeconds: number
  /** Aborted when the control plane shuts down: the process is killed. */
  signal?: AbortSignal
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  /** Set when the process was killed for going over its budget. */
  killed: 'cpu' | 'wall' | 'aborted' | null
}

const TAIL_BYTES = 1_000_000
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on every architecture the kernel ABI fixes. */
const CLOCK_TICKS = 100
const WATCH_MS = 250

/** Chatty tools: keep a bounded tail; what we parse (JSON, `key=value` progress) is at the end. */
function tailCollector(): { push(d: Buffer): void; text(): string } {
  const parts: Buffer[] = []
  let bytes = 0
  return {
    push(d) {
      parts.push(d)
      bytes += d.length
      while (bytes > TAIL_BYTES && parts.length > 1) bytes -= (parts.shift() as Buffer).length
    },
    text: () => Buffer.concat(parts).toString('utf8'),
  }
}

/** User + system CPU seconds of a running process, or null when /proc cannot tell. */
export async function cpuSecondsOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS : null
  } catch {
    return null
  }
}

/**
 * Runs a media tool with its output collected (bounded), at the budget's niceness, killed when it spends more CPU
 * or wall-clock time than the budget allows. Input may be written to its stdin.
 */
export function runTool(
  cmd: string,
  args: string[],
  budget: ProcessBudget,
  stdin?: string,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Through nice(1), which sets the niceness and then execs the tool (same pid): every thread the tool starts
    // inherits it. Renicing after spawn would race with the threads ffmpeg starts at once.
    const [file, argv] = budget.nice > 0 ? ['nice', ['-n', String(budget.nice), cmd, ...args]] : [cmd, args]
    const child = spawn(file, argv, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    const out = tailCollector()
    const err = tailCollector()
    let killed: RunResult['killed'] = null
    const kill = (why: NonNullable<RunResult['killed']>) => {
      killed ??= why
      child.kill('SIGKILL')
    }
    const onAbort = () => kill('aborted')
    if (budget.signal?.aborted) onAbort()
    budget.signal?.addEventListener('abort', onAbort)
    child.stdout?.on('data', (d: Buffer) => out.push(d))
    child.stderr?.on('data', (d: Buffer) => err.push(d))
    const wall = setTimeout(() => kill('wall'), budget.wallSeconds * 1000)
    const watch = setInterval(() => {
      if (child.pid === undefined) return
      void cpuSecondsOf(child.pid).then((s) => {
        if (s !== null && s > budget.cpuSeconds) kill('cpu')
      })
    }, WATCH_MS)
    const stop = () => {
      clearTimeout(wall)
      clearInterval(watch)
      budget.signal?.removeEventListener('abort', onAbort)
    }
    child.on('error', (e) => {
      stop()
      reject(e)
    })
    child.on('close', (code) => {
      stop()
      resolve({ code, stdout: out.text(), stderr: err.text(), killed })
    })
    if (stdin !== undefined) {
      // A tool that exits before reading all of its input must not crash the control plane.
      child.stdin?.on('error', () => {})
      child.stdin?.end(stdin)
    }
  })
}
