import { CliError, EXIT, type ExitCode } from './exit.js'
import { profilePath, readProfile } from './profile.js'

export interface GlobalOptions {
  api?: string
  token?: string
  profile?: string
  json?: boolean
}

export interface Connection {
  apiUrl: string
  token: string | null
}

/** Flags first, then LOA_API_URL / LOA_TOKEN, then the profile written by `loa init` or `loa login`. */
export function resolveConnection(g: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Connection {
  const profile = g.api && g.token ? null : readProfile(profilePath(g.profile, env))
  const apiUrl = g.api ?? env.LOA_API_URL ?? profile?.apiUrl
  if (!apiUrl) {
    throw new CliError(
      'LOA_CLI_NO_API',
      'Chưa biết địa chỉ máy chủ điều khiển: dùng --api URL, LOA_API_URL hoặc `loa login` / ' +
        'no control plane address: pass --api URL, set LOA_API_URL or run `loa login`',
      EXIT.usage,
    )
  }
  if (!/^https?:\/\/\S+$/.test(apiUrl)) {
    throw new CliError(
      'LOA_CLI_USAGE',
      `--api: "${apiUrl}" không phải URL http(s) / is not an http(s) URL`,
      EXIT.usage,
    )
  }
  const url = apiUrl.replace(/\/+$/, '')
  // The profile's token goes only to the profile's server, never to another one named by --api.
  const profileToken = profile && profile.apiUrl.replace(/\/+$/, '') === url ? profile.token : null
  return { apiUrl: url, token: g.token ?? env.LOA_TOKEN ?? profileToken }
}

interface ErrorBody {
  code?: string
  message?: string
  [k: string]: unknown
}

function exitFor(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth
  if (status === 404) return EXIT.notFound
  if (status === 503 || status === 502 || status === 504) return EXIT.unavailable
  if (status >= 500) return EXIT.internal
  return EXIT.data
}

/** The control plane's HTTP API, with the token attached and errors turned into CliErrors. */
export class Api {
  constructor(readonly conn: Connection) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.conn.token) headers.authorization = `Bearer ${this.conn.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(`${this.conn.apiUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw new CliError(
        'LOA_CLI_UNREACHABLE',
        `Không kết nối được máy chủ điều khiển / cannot reach the control plane at ${this.conn.apiUrl}: ` +
          `${cause?.code ?? cause?.message ?? (err as Error).message}`,
        EXIT.unavailable,
      )
    }
    const text = await res.text()
    let parsed: unknown = null
    if (text) {
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = text
      }
    }
    if (res.ok) return parsed as T
    const b = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as ErrorBody
    const { code, message, statusCode: _s, error: _e, ...rest } = b
    const prefix =
      res.status === 401 || res.status === 403 ? 'Không được phép / not allowed' : 'Máy chủ từ chối / refused'
    throw new CliError(
      code ?? `HTTP_${res.status}`,
      `${prefix} (${method} ${path} → ${res.status}): ${message ?? (typeof parsed === 'string' ? parsed : res.statusText)}`,
      exitFor(res.status),
      Object.keys(rest).length > 0 ? rest : undefined,
    )
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path)
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {})
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path)
  }
}
