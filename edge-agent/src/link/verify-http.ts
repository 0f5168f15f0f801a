import { readFileSync } from 'node:fs'
import https from 'node:https'
import { Readable } from 'node:stream'

/** How the agent talks to its control plane over HTTP(S): Basic auth (its MQTT credentials) and TLS material. */
export interface HttpAccess {
  /** The control plane's origin: credentials are sent to it only, never to another host named in a manifest. */
  origin: string
  authorization?: string
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer }
}

export function httpAccess(o: {
  controlPlaneUrl: string
  username?: string
  password?: string
  tls?: { caFile?: string; certFile?: string; keyFile?: string }
}): HttpAccess {
  const tls = o.tls
    ? {
        ...(o.tls.caFile ? { ca: readFileSync(o.tls.caFile) } : {}),
        ...(o.tls.certFile ? { cert: readFileSync(o.tls.certFile) } : {}),
        ...(o.tls.keyFile ? { key: readFileSync(o.tls.keyFile) } : {}),
      }
    : undefined
  return {
    origin: new URL(o.controlPlaneUrl).origin,
    ...(o.username && o.password
      ? { authorization: `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}` }
      : {}),
    ...(tls && Object.keys(tls).length > 0 ? { tls } : {}),
  }
}

/**
 * `fetch` for media downloads: adds Basic auth for the control plane's own origin, and for https:// with a
 * private CA (or a client certificate) goes through node:https, which takes them (global fetch cannot).
 */
export function accessFetch(access: HttpAccess | undefined): typeof fetch {
  if (!access) return fetch
  return async (input, init = {}) => {
    const url = new URL(String(input))
    const headers = new Headers(init.headers)
    const own = url.origin === access.origin
    if (own && access.authorization) headers.set('authorization', access.authorization)
    if (url.protocol !== 'https:' || !access.tls) return fetch(url, { ...init, headers })
    return new Promise<Response>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: 'GET',
          headers: Object.fromEntries(headers),
          ...access.tls,
          signal: init.signal ?? undefined,
        },
        (res) => {
          const h = new Headers()
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v)
          const body = Readable.toWeb(res) as ReadableStream<Uint8Array>
          resolve(new Response(body, { status: res.statusCode ?? 500, headers: h }))
        },
      )
      req.on('error', reject)
      req.end()
    })
  }
}
