import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyPluginOptions, RawServerDefault } from 'fastify'
import fp from 'fastify-plugin'
import type { App } from '../context.js'

/** Plugins others name as dependencies. */
export const WEBSOCKET_PLUGIN = 'loa-websocket'
export const AUTH_PLUGIN = 'loa-auth'

/**
 * A register function as a Fastify plugin: not encapsulated (fastify-plugin), so its routes and hooks land on the
 * app as before, with a name and the plugins it needs registered first: Fastify refuses to start when one is
 * missing (every route needs the auth plugin's hooks, docs/users-and-roles.md). Its options are its deps.
 */
export function loaPlugin<D extends FastifyPluginOptions>(
  name: string,
  register: (app: App, deps: D) => unknown,
  dependencies: string[] = [AUTH_PLUGIN],
) {
  return fp<D, RawServerDefault, TypeBoxTypeProvider>(
    async (app, deps) => {
      await register(app, deps)
    },
    { name, dependencies, fastify: '5.x' },
  )
}
