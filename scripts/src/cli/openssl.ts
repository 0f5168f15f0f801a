import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { CliError, EXIT } from './exit.js'

const run = promisify(execFile)

/** Runs the Debian `openssl` binary directly (no shell: nothing in an argument is ever interpreted). */
export async function openssl(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.env.LOA_OPENSSL ?? 'openssl', args, { timeout: 60_000 })
    return stdout
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === 'ENOENT') {
      throw new CliError(
        'LOA_CLI_OPENSSL_MISSING',
        'Không tìm thấy openssl / openssl not found: apt-get install openssl',
        EXIT.unavailable,
      )
    }
    throw new CliError(
      'LOA_CLI_OPENSSL',
      `openssl ${args[0]} thất bại / failed: ${(e.stderr ?? e.message).trim().split('\n').slice(0, 3).join(' ')}`,
      EXIT.internal,
    )
  }
}

/** `/C=VN/O=…/CN=…` with openssl's escapes, so a name containing "/" or "+" stays one value. */
export function subject(parts: [string, string][]): string {
  return parts.map(([k, v]) => `/${k}=${v.replace(/[\\/+]/g, (c) => `\\${c}`)}`).join('')
}

/** A random positive 128-bit serial (RFC 5280 allows up to 20 octets; random makes them unguessable). */
export function randomSerial(): string {
  const b = randomBytes(16)
  b[0] = (b[0] as number) & 0x7f
  return `0x${b.toString('hex')}`
}

/** A P-256 private key, written 0600 (openssl honours the umask, so the mode is set after). */
export async function generateKey(file: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file])
  fs.chmodSync(file, 0o600)
}

/** A scratch directory for CSRs and extension files, removed afterwards whatever happens. */
export async function withScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-ca-'))
  try {
    return await fn(dir)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
