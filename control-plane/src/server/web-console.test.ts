import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, DEFAULT_CONFIG, loadConfigFromEnv } from '../config.js'
import type { App, Services } from '../context.js'
import { type ConsoleFallback, registerConsole } from './web-console.js'

describe('web console serving', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'loa-web-'))
  const app = Fastify()
  const js = `console.log(${JSON.stringify('x'.repeat(4000))})`

  beforeAll(async () => {
    mkdirSync(path.join(dir, 'assets'))
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Loa</title>')
    writeFileSync(path.join(dir, 'assets', 'main-ABCD2345.js'), js)
    writeFileSync(path.join(dir, 'assets', 'main-ABCD2345.js.br'), brotliCompressSync(js))
    writeFileSync(path.join(dir, 'assets', 'main-ABCD2345.js.gz'), gzipSync(js))
    let fallback: ConsoleFallback = () => false
    // The same wiring as app.ts: the console answers the not-found paths that are its pages.
    app.setNotFoundHandler((req, reply) =>
      fallback(req, reply) ? reply : reply.status(404).send({ code: 'LOA_NOT_FOUND' }),
    )
    app.get('/api/clusters', async () => ({ clusters: [] }))
    // Only config is read by registerConsole; the rest of Services is not needed here.
    const services = {
      config: {
        ...DEFAULT_CONFIG,
        dataDir: dir,
        mapTileUrl: '/tiles/{z}/{x}/{y}.png',
        mapTileAttribution: 'Sở TT',
      },
    } as unknown as Services
    fallback = await registerConsole(app as unknown as App, services, dir)
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves page paths as index.html, never cached, and leaves API and asset misses as 404', async () => {
    for (const url of ['/', '/clusters/c.1', '/reports?unitId=x']) {
      const res = await app.inject({ url })
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['content-type']).toMatch(/text\/html/)
      expect(res.headers['cache-control']).toBe('no-cache')
      expect(res.body).toContain('<title>Loa</title>')
    }
    expect((await app.inject({ url: '/api/nope' })).json()).toEqual({ code: 'LOA_NOT_FOUND' })
    expect((await app.inject({ url: '/assets/missing-ABCD2345.js' })).statusCode).toBe(404)
    expect((await app.inject({ url: '/api/clusters' })).json()).toEqual({ clusters: [] })
    expect((await app.inject({ method: 'POST', url: '/clusters/c-1' })).statusCode).toBe(404)
  })

  it('serves hashed assets immutable and precompressed', async () => {
    const br = await app.inject({
      url: '/assets/main-ABCD2345.js',
      headers: { 'accept-encoding': 'br, gzip' },
    })
    expect(br.statusCode).toBe(200)
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(br.rawPayload.length).toBeLessThan(js.length / 10)
    const gz = await app.inject({ url: '/assets/main-ABCD2345.js', headers: { 'accept-encoding': 'gzip' } })
    expect(gz.headers['content-encoding']).toBe('gzip')
    const plain = await app.inject({ url: '/assets/main-ABCD2345.js' })
    expect(plain.body).toBe(js)
  })

  it('publishes the map tile settings, and nothing secret, before login', async () => {
    const res = await app.inject({ url: '/console-config.json' })
    expect(res.json()).toEqual({
      mapTileUrl: '/tiles/{z}/{x}/{y}.png',
      mapTileAttribution: 'Sở TT',
      timezone: DEFAULT_CONFIG.timezone,
    })
  })

  it('reads the tile URL from LOA_MAP_TILE_URL and refuses what is not an http(s) URL or a path', () => {
    const ok = loadConfigFromEnv({ LOA_MAP_TILE_URL: 'https://tiles.example.vn/{z}/{x}/{y}.png' })
    expect(ok.mapTileUrl).toBe('https://tiles.example.vn/{z}/{x}/{y}.png')
    expect(loadConfigFromEnv({}).mapTileUrl).toBeNull()
    expect(() => loadConfigFromEnv({ LOA_MAP_TILE_URL: 'javascript:alert(1)' })).toThrow(ConfigError)
  })
})
