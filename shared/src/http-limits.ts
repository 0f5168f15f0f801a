import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { addressKey } from './address-key.js'

/**
 * Timeouts and rates on every HTTP connection, for the control plane and the box's technician page
 * (docs/security.md, "Limits"). A slow 4G phone (32 KB/s, stalls of several seconds) passes all of them.
 */
export interface HttpLimits {
  /** The request line and headers must be complete this long after the connection or the previous request. */
  headersTimeoutMs: number
  /** The whole request (headers and body) must have arrived within this; a backstop above the rate rule. */
  requestTimeoutMs: number
  /** A connection with no traffic in either direction this long is closed. */
  idleTimeoutMs: number
  /** A kept-alive connection waits this long for its next request. */
  keepAliveTimeoutMs: number
  /** A request body must arrive at least this fast (bytes/s) on average over every `bodyRateWindowMs`. */
  minBodyBytesPerS: number
  bodyRateWindowMs: number
  /** Multipart uploads in progress at once from one address (IPv4, or IPv6 /64). */
  maxUploadsPerAddress: number
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 3_600_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 30_000,
  minBodyBytesPerS: 2048,
  bodyRateWindowMs: 30_000,
  maxUploadsPerAddress: 6,
}

/** The limits that are not valid together, named; null when they are fine. */
export function httpLimitsProblem(l: HttpLimits): string | null {
  if (l.requestTimeoutMs > 0 && l.headersTimeoutMs > l.requestTimeoutMs) {
    return 'headersTimeoutMs must not exceed requestTimeoutMs'
  }
  return null
}

/** Node's server options for these limits (Fastify's `http` / `https` options take them as they are). */
export function httpServerOptions(l: HttpLimits): ServerOptions {
  return {
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    // How often Node checks the two timeouts above (its default, 30 s, would let them overrun by that much).
    connectionsCheckingInterval: Math.min(5_000, Math.max(100, Math.floor(l.headersTimeoutMs / 4))),
  }
}

/** Fastify's own names for the same limits (it would otherwise set its defaults over Node's). */
export function fastifyTimeouts(l: HttpLimits) {
  return {
    connectionTimeout: l.idleTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
  }
}

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0

/** The 408 written straight to the socket (the request's own response may be in use by its handler). */
function timeoutResponse(jsonBody: string): string {
  return (
    'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(jsonBody)}\r\n\r\n${jsonBody}`
  )
}

export interface SlowBody {
  address: string
  url: string
  bytesPerS: number
}

interface Sample {
  at: number
  bytes: number
}

/**
 * Cuts a request whose body trickles in: from the end of its headers on, the body must arrive at
 * `minBodyBytesPerS` or better averaged over every `bodyRateWindowMs` (so a phone may stall for a while if it
 * catches up), until it is complete, even after the response has gone (Node keeps reading an unread body).
 * Time in which the server itself was not reading (the request stream paused, or not yet consumed) does not
 * count against the client. The cut answers 408 with `body` when no response has started, then closes.
 */
export function watchBodyRate(
  req: IncomingMessage,
  res: ServerResponse,
  l: Pick<HttpLimits, 'minBodyBytesPerS' | 'bodyRateWindowMs'>,
  o: { body: string; onCut?: (slow: SlowBody) => void },
): void {
  if (!hasBody(req) || l.minBodyBytesPerS <= 0 || l.bodyRateWindowMs <= 0) return
  const socket: Socket = req.socket
  let samples: Sample[] = [{ at: performance.now(), bytes: socket.bytesRead }]
  const tickMs = Math.max(25, Math.floor(l.bodyRateWindowMs / 5))
  const timer = setInterval(check, tickMs)
  timer.unref()
  const stop = () => clearInterval(timer)
  req.once('end', stop)
  socket.once('close', stop)

  function check(): void {
    if (req.complete || socket.destroyed) {
      stop()
      return
    }
    const now: Sample = { at: performance.now(), bytes: socket.bytesRead }
    const last = samples[samples.length - 1] as Sample
    // Not reading the body (paused, or not consumed yet), or the event loop stalled since the last check (the
    // socket was not read meanwhile): the client cannot be blamed for that time.
    if (req.readableFlowing !== true || now.at - last.at > 2 * tickMs + 50) {
      samples = [now]
      return
    }
    samples.push(now)
    // The newest sample at least a window old is the baseline; older ones are no longer needed.
    const base = samples.findLastIndex((x) => now.at - x.at >= l.bodyRateWindowMs)
    if (base < 0) return
    samples = samples.slice(base)
    const from = samples[0] as Sample
    const bytesPerS = ((now.bytes - from.bytes) * 1000) / (now.at - from.at)
    if (bytesPerS >= l.minBodyBytesPerS) return
    stop()
    o.onCut?.({
      address: addressKey(socket.remoteAddress),
      url: req.url ?? '',
      bytesPerS: Math.round(bytesPerS),
    })
    if (!res.headersSent) socket.end(timeoutResponse(o.body))
    socket.destroySoon()
    setTimeout(() => socket.destroy(), 1000).unref()
  }
}

/** Counts things in progress per key (an address, a user) and refuses beyond `max`. */
export class ConcurrencySlots {
  private readonly used = new Map<string, number>()

  constructor(private readonly max: number) {}

  /** Takes a slot; returns its release (safe to call twice), or null when `key` has all its slots in use. */
  take(key: string): (() => void) | null {
    const n = this.used.get(key) ?? 0
    if (n >= this.max) return null
    this.used.set(key, n + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.used.get(key) ?? 1) - 1
      if (left <= 0) this.used.delete(key)
      else this.used.set(key, left)
    }
  }
}
