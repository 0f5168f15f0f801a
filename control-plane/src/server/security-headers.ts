import { securityHeaders } from '@loa/shared/security-headers'
import type { App } from '../context.js'
import { isProtectedPath } from './protected-paths.js'

/**
 * The CSP source of a map tile URL template: its scheme and host, with a host label holding a placeholder
 * (`{s}.tile.openstreetmap.org`) and those left of it widened to `*` (CSP allows a wildcard leftmost label only).
 * Null for a path on the control plane itself (`/tiles/{z}/{x}/{y}.png`), which 'self' already covers.
 */
export function tileSource(template: string | null): string | null {
  const m = template?.match(/^(https?):\/\/([^/?#]+)/)
  if (!m) return null
  const labels = (m[2] as string).split('.')
  const last = labels.findLastIndex((l) => l.includes('{'))
  const host = last < 0 ? labels.join('.') : ['*', ...labels.slice(last + 1)].join('.')
  return `${m[1]}://${host}`
}

/**
 * Security headers on every response (docs/security.md, "Browser pages"): the console's strict CSP, nosniff,
 * no framing, the referrer policy, the microphone for the console's own live page only, HSTS over HTTPS, and
 * `Cache-Control: no-store` on the API (its answers name people, places and broadcasts) unless a route says
 * otherwise.
 */
export function registerSecurityHeaders(app: App, o: { mapTileUrl: string | null; https: boolean }): void {
  const tiles = tileSource(o.mapTileUrl)
  const headers = securityHeaders({
    imgSources: tiles ? [tiles] : [],
    microphone: true,
    https: o.https,
    referrerPolicy: tiles ? 'strict-origin-when-cross-origin' : 'no-referrer',
  })
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(headers)
    const path = req.url.split('?')[0] as string
    if (isProtectedPath(path) && !path.startsWith('/media/')) reply.header('cache-control', 'no-store')
  })
}
