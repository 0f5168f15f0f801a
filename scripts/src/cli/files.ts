import fs from 'node:fs'
import path from 'node:path'
import { CliError, EXIT } from './exit.js'

/** Creates a directory (0700: what goes in it is secret) or fails with a clear message. */
export function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new CliError(
      'LOA_CLI_CANT_CREATE',
      `Không tạo được thư mục / cannot create ${dir}: ${(err as Error).message}`,
      EXIT.cantCreate,
    )
  }
}

/**
 * Writes a file with mode 0600 whatever the umask, atomically (temp file + rename), so a crash never leaves a
 * half-written config or key behind.
 */
export function writeSecret(file: string, content: string | Buffer, mode = 0o600): void {
  ensureDir(path.dirname(file))
  const tmp = `${file}.${process.pid}.tmp`
  try {
    fs.writeFileSync(tmp, content, { mode })
    fs.chmodSync(tmp, mode)
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw new CliError(
      'LOA_CLI_CANT_CREATE',
      `Không ghi được tệp / cannot write ${file}: ${(err as Error).message}`,
      EXIT.cantCreate,
    )
  }
}

export function readInput(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new CliError(
      'LOA_CLI_NO_INPUT',
      `Không đọc được tệp / cannot read ${file}: ${(err as Error).message}`,
      EXIT.noInput,
    )
  }
}
