import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { topicTree } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { startBroker } from '../../test-kit/servers.js'
import { silentLog, tmp } from '../../test-kit/test-helpers.js'
import { openDb } from '../storage/db.js'
import { backoffMs, MqttLink } from './mqtt.js'
import { Outbox } from './outbox.js'

async function brokerOn(port: number) {
  const broker = await Aedes.createBroker()
  const server = createServer(broker.handle)
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()))
        for (const s of sockets) s.destroy()
      }),
  }
}

describe('mqtt link', () => {
  it('backs off from about 1 s to at most 60 s, with jitter', () => {
    for (let i = 0; i < 20; i++) {
      expect(backoffMs(0)).toBeGreaterThanOrEqual(500)
      expect(backoffMs(0)).toBeLessThanOrEqual(1000)
      expect(backoffMs(40)).toBeGreaterThanOrEqual(30_000)
      expect(backoffMs(40)).toBeLessThanOrEqual(60_000)
    }
    expect(backoffMs(5)).toBeGreaterThan(backoffMs(0) - 1)
  })

  it('reconnects to a restarted broker (memory lost): presence online again, pending outbox re-sent', async () => {
    let b = await brokerOn(0)
    const url = `mqtt://127.0.0.1:${b.port}`
    const db = openDb(join(tmp(), 'agent.db'))
    const outbox = new Outbox(db)
    const tree = topicTree('loa')
    let connects = 0
    const link = new MqttLink({
      url,
      deviceId: 'pi-r',
      tree,
      outbox,
      log: silentLog,
      onMessage: () => {},
      onConnect: () => {
        connects++
      },
      flushIntervalMs: 200,
    })
    link.start()
    try {
      await waitFor(() => link.connected, 10_000, 'first connection')
      await b.close()
      await waitFor(() => !link.connected, 10_000, 'disconnect')
      const id = outbox.event('while-offline', 'info', 'queued while the broker was down')
      b = await brokerOn(b.port)
      const seen: { topic: string; body: Record<string, unknown>; id: string }[] = []
      const cp = await mqtt.connectAsync(url, { clientId: 'cp-r' })
      cp.on('message', (topic, p) => {
        const m = JSON.parse(p.toString())
        seen.push({ topic, body: m.body, id: m.id })
      })
      await cp.subscribeAsync('loa/v1/device/pi-r/+', { qos: 1 })
      await waitFor(() => seen.some((s) => s.id === id), 20_000, 'outbox entry after reconnect')
      expect(seen.some((s) => s.topic.endsWith('/presence') && s.body.online === true)).toBe(true)
      expect(connects).toBe(2)
      await cp.endAsync()
    } finally {
      await link.stop()
      await b.close()
      db.close()
    }
  })

  it('a broker that drops each connection at once is backed off; a connection that lasts resets the backoff', async () => {
    const b = await startBroker()
    let flap = true
    let connects = 0
    let last: { close: () => void } | null = null
    b.broker.on('clientReady', (c) => {
      connects++
      last = c
      // Dropped once the client has its CONNACK (it sees a connection), well before it counts as stable.
      if (flap) setTimeout(() => c.close(), 100)
    })
    const db = openDb(join(tmp(), 'agent.db'))
    const link = new MqttLink({
      url: b.url,
      deviceId: 'pi-flap',
      tree: topicTree('loa'),
      outbox: new Outbox(db),
      log: silentLog,
      onMessage: () => {},
      onConnect: () => {},
      stableAfterMs: 300,
    })
    const t0 = Date.now()
    link.start()
    try {
      await new Promise((r) => setTimeout(r, 6_000))
      // Reset on every connect (the old rule) would retry every 0.5–1 s: 7 or more sessions in 6 s. Backed off
      // ×1.5 from 0.5–1 s, at most 5 fit.
      expect(connects).toBeGreaterThanOrEqual(2)
      expect(connects).toBeLessThanOrEqual(5)
      flap = false
      await waitFor(() => link.connected, 60_000, 'a connection that lasts')
      await new Promise((r) => setTimeout(r, 600))
      const before = connects
      ;(last as { close: () => void } | null)?.close()
      const droppedAt = Date.now()
      await waitFor(() => connects > before && link.connected, 10_000, 'reconnect after a stable connection')
      // Reset: the first step again (at most 1 s), not the 2.5 s and more (attempt 4 or later) the flapping had reached.
      expect(Date.now() - droppedAt).toBeLessThan(2_000)
      expect(Date.now() - t0).toBeGreaterThan(6_000)
    } finally {
      await link.stop()
      await b.close()
      db.close()
    }
  })
})
