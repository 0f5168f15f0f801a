import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import type { App } from '../context.js'
import { AUTH_PLUGIN, loaPlugin } from './plugin.js'

/** Route plugins name what they need first: without the auth plugin the app does not start. */
describe('loaPlugin', () => {
  it('refuses to load without its dependencies', async () => {
    const app = Fastify() as unknown as App
    await expect(
      app.register(
        loaPlugin('loa-x-routes', () => {}),
        {},
      ),
    ).rejects.toMatchObject({
      code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED',
    })
    await app.close()
  })

  it('runs the register function on the app itself (not encapsulated) with its deps as options', async () => {
    const app = Fastify() as unknown as App
    const seen: unknown[] = []
    await app.register(
      loaPlugin(AUTH_PLUGIN, (a) => a.decorate('authed', true), []),
      {},
    )
    await app.register(
      loaPlugin('loa-x-routes', (a, deps: { n: number }) => {
        seen.push(deps.n)
        a.get('/x', async () => ({ ok: true }))
      }),
      { n: 7 },
    )
    await app.ready()
    expect(seen).toEqual([7])
    expect(app.hasDecorator('authed')).toBe(true)
    expect((await app.inject({ method: 'GET', url: '/x' })).json()).toEqual({ ok: true })
    await app.close()
  })
})
