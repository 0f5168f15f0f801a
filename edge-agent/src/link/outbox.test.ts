import { join } from 'node:path'
import { encodeMessage, serializeMessage, topicTree } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { startBroker } from '../../test-kit/servers.js'
import { silentLog, tmp } from '../../test-kit/test-helpers.js'
import { openDb } from '../storage/db.js'
import { MqttLink } from './mqtt.js'
import { Outbox } from './outbox.js'

const event = (n: number) => ({
  at: new Date().toISOString(),
  kind: 'test',
  severity: 'info' as const,
  message: `e${n}`,
})
const tele = (n: number) => ({
  at: new Date().toISOString(),
  uptimeS: n,
  agentVersion: 't',
  cpuLoad1: 0,
  cpuCount: 1,
  memTotalBytes: 1,
  memFreeBytes: 1,
  diskTotalBytes: 1,
  diskFreeBytes: 1,
  relayOn: false,
  nowPlaying: null,
  outboxPending: 0,
})

describe('outbox', () => {
  it('re-offers unreceipted entries after resendAfterMs, drops receipted ones, survives reopening', () => {
    const file = join(tmp(), 'agent.db')
    let db = openDb(file)
    let ob = new Outbox(db, { resendAfterMs: 1000, maxInFlight: 2 })
    const ids = [1, 2, 3].map((n) => ob.enqueue('event', event(n)))
    const t0 = new Date()
    expect(ob.takeDue(t0).map((e) => e.id)).toEqual(ids.slice(0, 2)) // in-flight cap
    expect(ob.takeDue(t0)).toEqual([])
    expect(ob.receipt([ids[0] as string, 'not-ours-123'])).toBe(1)
    expect(ob.takeDue(t0).map((e) => e.id)).toEqual([ids[2]])
    db.close()
    db = openDb(file)
    ob = new Outbox(db, { resendAfterMs: 1000, maxInFlight: 2 })
    expect(ob.pendingCount()).toBe(2)
    expect(ob.takeDue(new Date(t0.getTime() + 500))).toEqual([])
    expect(ob.takeDue(new Date(t0.getTime() + 1500)).map((e) => e.id)).toEqual([ids[1], ids[2]])
    ob.resetInFlight()
    expect(ob.takeDue(new Date(t0.getTime() + 1600)).map((e) => e.id)).toEqual([ids[1], ids[2]])
    ob.receipt([ids[1] as string, ids[2] as string])
    expect(ob.pendingCount()).toBe(0)
    db.close()
  })

  it('keeps only the newest reported state and the newest telemetry, never drops plays or events', () => {
    const db = openDb(join(tmp(), 'agent.db'))
    const ob = new Outbox(db, { maxPendingTelemetry: 3, maxInFlight: 100 })
    const state = (v: number) => ({
      desiredVersion: v,
      receivedVersion: v,
      appliedAt: null,
      agentVersion: 't',
      media: [],
      cacheBytes: 0,
      cacheBudgetBytes: 0,
      diskFreeBytes: 0,
    })
    ob.enqueue('reported', state(1))
    for (let i = 0; i < 6; i++) ob.enqueue('telemetry', tele(i))
    for (let i = 0; i < 5; i++) ob.event('x', 'info', `e${i}`)
    ob.enqueue('reported', state(2))
    const due = ob.takeDue()
    expect(
      due
        .filter((e) => e.channel === 'reported')
        .map((e) => (e.body as { desiredVersion: number }).desiredVersion),
    ).toEqual([2])
    expect(
      due.filter((e) => e.channel === 'telemetry').map((e) => (e.body as { uptimeS: number }).uptimeS),
    ).toEqual([3, 4, 5])
    expect(due.filter((e) => e.channel === 'event')).toHaveLength(5)
    db.close()
  })

  it('over a real broker: published with the row id, re-sent on reconnect until receipted', async () => {
    const broker = await startBroker()
    const db = openDb(join(tmp(), 'agent.db'))
    const ob = new Outbox(db, { resendAfterMs: 60_000 })
    const tree = topicTree('loa')
    const seen: string[] = []
    const cp = await mqtt.connectAsync(broker.url, { clientId: 'cp-outbox' })
    cp.on('message', (_t, p) => seen.push(JSON.parse(p.toString()).id))
    await cp.subscribeAsync(tree.device('pi-o', 'event'), { qos: 1 })
    const link = new MqttLink({
      url: broker.url,
      deviceId: 'pi-o',
      tree,
      outbox: ob,
      log: silentLog,
      onMessage: (topic, payload) => {
        if (topic.endsWith('/receipt')) ob.receipt(JSON.parse(payload.toString()).body.ids)
      },
      onConnect: () => {},
      flushIntervalMs: 100,
    })
    try {
      const id = ob.event('hello', 'info', 'one')
      link.start()
      await waitFor(() => seen.includes(id), 10_000, 'first publish')
      // Drop the connection: the entry is still pending and goes out again on reconnect.
      const clients = (broker.broker as unknown as { clients: Record<string, { conn: { destroy(): void } }> })
        .clients
      clients['loa-agent-pi-o']?.conn.destroy()
      await waitFor(() => seen.filter((s) => s === id).length >= 2, 15_000, 're-send after reconnect')
      expect(ob.pendingCount()).toBe(1)
      await cp.publishAsync(
        tree.device('pi-o', 'receipt'),
        serializeMessage('receipt', encodeMessage('receipt', 'cp', { ids: [id] })),
        { qos: 1 },
      )
      await waitFor(() => ob.pendingCount() === 0, 10_000, 'receipt')
    } finally {
      await link.stop()
      await cp.endAsync()
      await broker.close()
      db.close()
    }
  })
})
