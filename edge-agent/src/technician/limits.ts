import { addressKey } from '@loa/shared/address-key'
import {
  ConcurrencySlots,
  DEFAULT_HTTP_LIMITS,
  fastifyTimeouts,
  type HttpLimits,
  httpServerOptions,
  watchBodyRate,
} from '@loa/shared/http-limits'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { AgentConfig } from '../config/config.js'
import { AgentErrorCodes } from '../errors.js'
import { sendError } from './http.js'

/**
 * The technician page's connection limits: the control plane's defaults (shared http-limits.ts), two uploads at
 * once per address (a Pi transcodes one at a time anyway), and the body rate from the box's config.
 */
export function localHttpLimits(
  config: Pick<AgentConfig, 'localPage'>,
  overrides: Partial<HttpLimits> = {},
): HttpLimits {
  const page = config.localPage
  return {
    ...DEFAULT_HTTP_LIMITS,
    maxUploadsPerAddress: 2,
    ...(page?.minBodyBytesPerS !== undefined ? { minBodyBytesPerS: page.minBodyBytesPerS } : {}),
    ...(page?.bodyRateWindowS !== undefined ? { bodyRateWindowMs: page.bodyRateWindowS * 1000 } : {}),
    ...overrides,
  }
}

/** Fastify's options for the limits (Node's own in `http`). */
export const localFastifyLimits = (l: HttpLimits) => ({ ...fastifyTimeouts(l), http: httpServerOptions(l) })

/** A body trickling in below the rate is cut with 408; multipart uploads at once are capped per address. */
export function applyLocalLimits(app: FastifyInstance, l: HttpLimits, log: Logger): void {
  const body = JSON.stringify({ code: 'LOA_LOCAL_TIMEOUT', message: AgentErrorCodes.LOA_LOCAL_TIMEOUT })
  app.server.on('request', (req, res) =>
    watchBodyRate(req, res, l, {
      body,
      onCut: (slow) => log.warn(slow, 'technician page: request body arriving too slowly, cut'),
    }),
  )
  const uploads = new ConcurrencySlots(l.maxUploadsPerAddress)
  app.addHook('preHandler', async (req, reply) => {
    if (!req.isMultipart()) return
    const release = uploads.take(addressKey(req.socket.remoteAddress))
    if (!release) return sendError(reply, 429, 'LOA_LOCAL_BUSY')
    reply.raw.once('close', release)
  })
}
