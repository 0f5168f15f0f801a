import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '@loa/testkit'

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto']

/** Finds Debian's mosquitto, installing it with apt-get when running as root; null when it cannot be had. */
export function findMosquitto(): string | null {
  const found = CANDIDATES.find((p) => existsSync(p))
  if (found) return found
  if (process.getuid?.() !== 0) return null
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'mosquitto'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
  } catch {
    return null
  }
  return CANDIDATES.find((p) => existsSync(p)) ?? null
}

export interface Mosquitto {
  url: string
  stop(): Promise<void>
}

/** Starts a private Mosquitto on a free loopback port with a throwaway config (no persistence, no auth). */
export async function startMosquitto(binary: string, dir: string): Promise<Mosquitto> {
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 100000',
      'max_inflight_messages 0',
      'log_type error',
    ].join('\n'),
  )
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: 'ignore' })
  const deadline = Date.now() + 10_000
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      import('node:net').then(({ connect }) => {
        const s = connect(port, '127.0.0.1', () => {
          s.end()
          resolve(true)
        })
        s.on('error', () => resolve(false))
      })
    })
    if (up) break
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('mosquitto did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
