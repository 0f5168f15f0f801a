import type { Media } from './content-types.js'

export interface UploadError extends Error {
  status: number
  code: string
}

/**
 * Multipart upload of one audio file to `POST /api/media`. XMLHttpRequest rather than fetch because only it reports
 * upload progress; `onProgress` gets 0–1 while bytes go up, then the server transcodes (no progress for that).
 */
export function uploadMedia(
  file: File,
  onProgress: (fraction: number) => void,
  headers: Record<string, string> = {},
): { done: Promise<Media>; abort(): void } {
  const xhr = new XMLHttpRequest()
  const done = new Promise<Media>((resolve, reject) => {
    xhr.open('POST', '/api/media')
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v)
    xhr.responseType = 'text'
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total)
    }
    xhr.upload.onload = () => onProgress(1)
    xhr.onload = () => {
      let body: unknown
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        body = null
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as Media)
      else {
        const b = (body ?? {}) as { code?: string; message?: string }
        const err = new Error(b.message ?? `HTTP ${xhr.status}`) as UploadError
        err.status = xhr.status
        err.code = b.code ?? 'LOA_HTTP'
        reject(err)
      }
    }
    xhr.onerror = () => {
      const err = new Error('network error') as UploadError
      err.status = 0
      err.code = 'LOA_NETWORK'
      reject(err)
    }
    xhr.onabort = () => {
      const err = new Error('aborted') as UploadError
      err.status = 0
      err.code = 'LOA_ABORTED'
      reject(err)
    }
    const form = new FormData()
    form.append('file', file, file.name)
    xhr.send(form)
  })
  return { done, abort: () => xhr.abort() }
}
