/**
 * The security headers of Loa's two web pages, the operator console (control plane) and the technician page (on
 * the box), so both say the same thing (docs/security.md, "Browser pages"). The Content-Security-Policy allows
 * scripts, styles and connections from the page's own origin only: no inline script or style, no eval, no
 * plugins, no framing, no <base> rewriting. Even if some user-provided text reached an HTML sink, nothing it
 * carried would run.
 */
export interface SecurityHeaderOptions {
  /** More image sources than 'self' and data: (the console's map tile server, e.g. `https://*.tile.osm.org`). */
  imgSources?: readonly string[]
  /** Whether the page records from the microphone (both pages do: the console speaks live, the box records). */
  microphone: boolean
  /** Served over HTTPS: browsers are told to keep to it (HSTS). */
  https: boolean
  /**
   * What other origins learn of the page's address. `no-referrer` by default; a map tile server that requires a
   * Referer (OpenStreetMap's does) gets only the origin, never the path.
   */
  referrerPolicy?: 'no-referrer' | 'strict-origin-when-cross-origin'
}

export function contentSecurityPolicy(o: Pick<SecurityHeaderOptions, 'imgSources'> = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    ['img-src', "'self'", 'data:', ...(o.imgSources ?? [])].join(' '),
    // Audio previews (text-to-speech, recordings) play from blob: URLs.
    "media-src 'self' blob:",
    // 'self' covers the same origin's ws: and wss: too (the console's microphone WebSocket).
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

export function securityHeaders(o: SecurityHeaderOptions): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(o),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': o.referrerPolicy ?? 'no-referrer',
    'permissions-policy': [
      `microphone=(${o.microphone ? 'self' : ''})`,
      'camera=()',
      'geolocation=()',
      'payment=()',
      'usb=()',
      'serial=()',
      'bluetooth=()',
    ].join(', '),
    'cross-origin-opener-policy': 'same-origin',
    ...(o.https ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  }
}
