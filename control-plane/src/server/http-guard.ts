import { addressKey } from '@loa/shared/address-key'
import { ConcurrencySlots, fastifyTimeouts, httpServerOptions, watchBodyRate } from '@loa/shared/http-limits'
import { Counter, type Registry } from 'prom-client'
import type { App } from '../context.js'
import { errorBody, LoaError } from './errors.js'
import type { ControlPlaneHttpLimits } from './limits-config.js'

/** Fastify's options for the limits; Node's own server options ride along in `http` or `https`. */
export function httpLimitOptions<T extends object>(l: ControlPlaneHttpLimits, https?: T) {
  return {
    ...fastifyTimeouts(l),
    ...(https ? { https: { ...https, ...httpServerOptions(l) } } : { http: httpServerOptions(l) }),
  }
}

/**
 * The connection-level limits Fastify's options do not cover: a request body trickling in below the minimum rate
 * is cut (shared http-limits.ts), and multipart uploads in progress at once are capped per address and per user
 * (or API token). Cuts and refusals are counted in `loa_http_refusals_total{reason}`.
 */
export function registerHttpLimits(app: App, l: ControlPlaneHttpLimits, registry: Registry): void {
  const refusals = new Counter({
    name: 'loa_http_refusals_total',
    help: 'HTTP requests cut or refused by the connection limits',
    labelNames: ['reason'],
    registers: [registry],
  })
  const body = JSON.stringify(
    errorBody(
      408,
      'LOA_REQUEST_TIMEOUT',
      `request body arrived slower than ${l.minBodyBytesPerS} bytes/s over ${l.bodyRateWindowMs} ms: cut`,
    ),
  )
  app.server.on('request', (req, res) =>
    watchBodyRate(req, res, l, {
      body,
      onCut: (slow) => {
        refusals.inc({ reason: 'slow-body' })
        app.log.warn(slow, 'request body arriving too slowly: cut')
      },
    }),
  )
  const perAddress = new ConcurrencySlots(l.maxUploadsPerAddress)
  const perUser = new ConcurrencySlots(l.maxUploadsPerUser)
  app.addHook('preHandler', async (req, reply) => {
    if (!req.isMultipart()) return
    const releaseAddress = perAddress.take(addressKey(req.socket.remoteAddress))
    const releaseUser = releaseAddress && req.actor ? perUser.take(`${req.actor.kind}:${req.actor.id}`) : null
    if (!releaseAddress || (req.actor && !releaseUser)) {
      releaseAddress?.()
      refusals.inc({ reason: 'too-many-uploads' })
      throw new LoaError(
        'LOA_TOO_MANY_UPLOADS',
        `at most ${l.maxUploadsPerUser} uploads at once per user and ${l.maxUploadsPerAddress} per address`,
      )
    }
    reply.raw.once('close', () => {
      releaseAddress()
      releaseUser?.()
    })
  })
}
