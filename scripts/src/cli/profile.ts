import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CliError, EXIT } from './exit.js'

/** What `loa init` / `loa login` remember so later commands need no flags. Mode 0600: it holds a token. */
export interface Profile {
  apiUrl: string
  token: string
  /** Id of the API token, so it can be revoked by name later. */
  tokenId?: string
  province?: { id: string; code: string; name: string }
  admin?: string
  createdAt: string
}

export function profilePath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag)
  if (env.LOA_PROFILE) return path.resolve(env.LOA_PROFILE)
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config')
  return path.join(base, 'loa', 'profile.json')
}

export function readProfile(file: string): Profile | null {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new CliError(
      'LOA_CLI_PROFILE',
      `Không đọc được hồ sơ / cannot read profile ${file}: ${(err as Error).message}`,
      EXIT.noInput,
    )
  }
  try {
    const p = JSON.parse(text) as Profile
    if (typeof p.apiUrl !== 'string' || typeof p.token !== 'string')
      throw new Error('apiUrl and token required')
    return p
  } catch (err) {
    throw new CliError(
      'LOA_CLI_PROFILE',
      `Hồ sơ hỏng / profile ${file} is invalid: ${(err as Error).message}`,
      EXIT.data,
    )
  }
}

export function writeProfile(file: string, profile: Profile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 })
  fs.chmodSync(tmp, 0o600)
  fs.renameSync(tmp, file)
}
