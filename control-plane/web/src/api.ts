import { common, t } from './common.i18n'
import { hasMessage } from './i18n'

/** An API answer that is not 2xx, with the server's stable code (LOA_…) and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

type UnauthorizedHandler = () => void
let onUnauthorized: UnauthorizedHandler = () => {}

/** The shell sends the user to the login page when a session ends (any 401 but the login's own). */
export function setUnauthorizedHandler(h: UnauthorizedHandler): void {
  onUnauthorized = h
}

async function toError(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`
  let message = res.statusText
  try {
    const body = (await res.json()) as { code?: string; message?: string }
    if (body.code) code = body.code
    if (body.message) message = body.message
  } catch {
    // not JSON (a proxy's page): keep the status
  }
  return new ApiError(res.status, code, message)
}

async function send(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' }
  let payload: BodyInit | undefined
  if (body instanceof FormData) payload = body
  else if (body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', ...init })
  } catch {
    throw new ApiError(0, 'NETWORK', 'network error')
  }
  if (res.status === 401 && path !== '/api/auth/login') onUnauthorized()
  if (!res.ok) throw await toError(res)
  return res
}

/** JSON in, JSON out. Throws ApiError (status 0, code NETWORK when the server cannot be reached). */
export async function api<T>(method: string, path: string, body?: unknown, init?: RequestInit): Promise<T> {
  const res = await send(method, path, body, init)
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

export const get = <T>(path: string, init?: RequestInit): Promise<T> => api<T>('GET', path, undefined, init)
export const post = <T>(path: string, body?: unknown): Promise<T> => api<T>('POST', path, body ?? {})

/** A text answer (CSV); same errors as api(). */
export async function getText(path: string): Promise<string> {
  return await (await send('GET', path)).text()
}

/** Multipart upload with progress (fetch cannot report upload progress; XMLHttpRequest can). */
export function upload<T>(path: string, form: FormData, onProgress?: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', path)
    xhr.setRequestHeader('accept', 'application/json')
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total)
    }
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'network error'))
    xhr.onload = () => {
      let body: { code?: string; message?: string } = {}
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        // leave empty
      }
      if (xhr.status === 401) onUnauthorized()
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T)
      else reject(new ApiError(xhr.status, body.code ?? `HTTP_${xhr.status}`, body.message ?? xhr.statusText))
    }
    xhr.send(form)
  })
}

/** The error in the current language: a known code gets its sentence (with the server's detail where useful). */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'NETWORK') return t('err.network')
    const key = `err.${err.code}`
    if (hasMessage(common, key)) return t(key, { detail: err.message })
    return `${t('err.unknown', { code: err.code })} ${err.message}`
  }
  return err instanceof Error ? err.message : String(err)
}

/** Query string from defined values only. */
export function qs(params: Record<string, string | number | boolean | null | undefined>): string {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v))
  const s = u.toString()
  return s ? `?${s}` : ''
}
