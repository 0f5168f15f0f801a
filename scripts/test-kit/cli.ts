import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Test helpers for `loa`: it always runs as a real child process, exactly as a user or script runs it. */

export const CLI_MAIN = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'dist',
  'cli',
  'main.js',
)

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
  /** stdout parsed as the one JSON document `--json` promises. */
  json<T = Record<string, unknown>>(): T
}

export interface CliEnv {
  /** A private HOME/XDG dir, so no real profile is read or written. */
  home: string
  env: Record<string, string>
}

export function cliEnv(extra: Record<string, string> = {}): CliEnv {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cli-home-'))
  return {
    home,
    env: { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), LOA_TEST_LOG: 'silent', ...extra },
  }
}

/** Runs `node scripts/dist/cli/main.js …args` without blocking this process (the control plane lives here). */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...opts.env }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T
          } catch {
            throw new Error(`stdout is not one JSON document (exit ${code}):\n${stdout}\nstderr:\n${stderr}`)
          }
        },
      })
    })
    child.stdin.end(opts.input ?? '')
  })
}

export function writeFile(dir: string, name: string, content: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, content)
  return file
}

export const modeOf = (file: string): number => fs.statSync(file).mode & 0o777
