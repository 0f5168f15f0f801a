import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App, Services } from '../context.js'

/** Where `npm run build:web` puts the bundled console (control-plane/dist-web). */
export const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist-web')

/** esbuild names every asset `name-HASH.ext`: such a file never changes, so browsers may keep it for a year. */
const HASHED = /-[A-Z0-9]{8}\.[a-z0-9]+(\.br|\.gz)?$/

/** Paths that belong to the API or to devices: never answered with the console's page. */
const NOT_CONSOLE = /^\/(api|media)(\/|$)|^\/(healthz|metrics|openapi\.json|console-config\.json)$/

export type ConsoleFallback = (request: FastifyRequest, reply: FastifyReply) => boolean

/** What the web console uses of the services (app.ts passes exactly these). */
export type ConsoleDeps = Pick<Services, 'config'>

/**
 * Serves the operator console (a single-page app) at `/`: hashed bundles under /assets/ (immutable, with
 * precompressed .br/.gz twins), index.html for every other page path (no-cache), and its public
 * configuration at `/console-config.json` (outside /api: the page reads it before anyone has logged in).
 * Returns the not-found fallback that answers index.html for the console's own paths (history routing).
 */
export async function registerConsole(app: App, s: ConsoleDeps, dir = CONSOLE_DIR): Promise<ConsoleFallback> {
  app.get('/console-config.json', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('cache-control', 'no-cache')
    return {
      mapTileUrl: s.config.mapTileUrl,
      mapTileAttribution: s.config.mapTileAttribution,
      timezone: s.config.timezone,
    }
  })
  const built = existsSync(path.join(dir, 'index.html'))
  if (!built) {
    app.log.warn({ dir }, 'web console not built (npm run build:web); serving the API only')
    return () => false
  }
  // Only /assets/ is served from disk: every other path is the API's, or the page's (the fallback below).
  await app.register(fastifyStatic, {
    root: path.join(dir, 'assets'),
    prefix: '/assets/',
    preCompressed: true,
    index: false,
    cacheControl: false,
    setHeaders(res, filePath) {
      res.setHeader(
        'cache-control',
        HASHED.test(filePath) ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
    },
  })
  return (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false
    const pathname = request.url.split('?')[0] ?? '/'
    // Ids may contain dots (/clusters/c.1), so only /assets/ is taken to be files.
    if (NOT_CONSOLE.test(pathname) || pathname.startsWith('/assets/')) return false
    void reply.sendFile('index.html', dir)
    return true
  }
}
