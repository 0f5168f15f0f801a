import type { ControlPlane } from '@loa/control-plane'
import { encodeMessage, serializeMessage } from '@loa/shared'
import mqtt from 'mqtt'
import type { BenchRow } from './desired-fanout.js'
import { brokerIdentity, collector, fmt } from './util.js'

const PUBLISHERS = 10

function playPayloads(devices: number, count: number): { device: string; payload: Buffer }[] {
  const out: { device: string; payload: Buffer }[] = []
  const now = Date.now()
  for (let i = 0; i < count; i++) {
    const device = `c-${i % devices}`
    const at = new Date(now - (count - i) * 1000).toISOString()
    const msg = encodeMessage('play', device, {
      scheduleId: 's-bench',
      title: 'Bench',
      sha256: 'c'.repeat(64),
      level: 'normal',
      priority: 50,
      fallback: false,
      occurrence: at,
      status: 'played',
      relayOnAt: at,
      startedAt: at,
      endedAt: at,
      relayOffAt: at,
      durationMs: 1000,
    })
    out.push({ device, payload: serializeMessage('play', msg) })
  }
  return out
}

async function publishAll(
  url: string,
  topicOf: (device: string) => string,
  items: { device: string; payload: Buffer }[],
) {
  const clients = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) =>
      mqtt.connectAsync(url, {
        clientId: `bench-pub-${process.pid}-${i}-${Math.random()}`,
        reconnectPeriod: 0,
        ...brokerIdentity(),
      }),
    ),
  )
  await Promise.all(
    clients.map(async (client, c) => {
      const mine = items.filter((_, i) => i % PUBLISHERS === c)
      const inflight: Promise<unknown>[] = []
      for (const it of mine) {
        inflight.push(client.publishAsync(topicOf(it.device), it.payload, { qos: 1 }))
        if (inflight.length >= 100) await Promise.all(inflight.splice(0))
      }
      await Promise.all(inflight)
    }),
  )
  await Promise.all(clients.map((c) => c.endAsync()))
}

/**
 * Proof of play from `devices` devices, `plays` messages in all: published over real MQTT, validated, stored in
 * batched transactions and receipted. Measured: first publish → every id receipted back to the devices.
 * Baseline: the same payloads published to an echo topic and received by one subscriber.
 */
export async function benchIngest(cp: ControlPlane, devices: number, plays: number): Promise<BenchRow[]> {
  const items = playPayloads(devices, plays)
  const receipts = await collector(cp.mqttUrl, 'loa/v1/device/+/receipt', (_t, p) => {
    const body = (JSON.parse(p.toString()) as { body: { ids: string[] } }).body
    return body.ids.length
  })
  const t0 = performance.now()
  const sending = publishAll(cp.mqttUrl, (d) => `loa/v1/device/${d}/play`, items)
  const loaMs = await receipts.until(plays, () => t0, 300_000)
  await sending
  await receipts.close()

  const echo = await collector(cp.mqttUrl, 'bench/echo/+/play', () => 1)
  const t1 = performance.now()
  const sendingRaw = publishAll(cp.mqttUrl, (d) => `bench/echo/${d}/play`, items)
  const rawMs = await echo.until(plays, () => t1, 300_000)
  await sendingRaw
  await echo.close()
  return [
    {
      name: `proof-of-play ingest, ${plays} messages from ${devices} devices (validated, stored, receipted)`,
      loa: fmt(loaMs),
      baseline: fmt(rawMs),
      ratio: `${(loaMs / rawMs).toFixed(2)}×`,
      throughput: `${Math.round(plays / (loaMs / 1000))} msg/s`,
    },
  ]
}
