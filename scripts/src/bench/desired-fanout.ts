import type { ControlPlane } from '@loa/control-plane'
import mqtt from 'mqtt'
import { inject } from './seed.js'
import { brokerIdentity, collector, fmt } from './util.js'

export interface BenchRow {
  name: string
  loa: string
  baseline: string
  ratio: string
  throughput: string
}

/**
 * A province of `clusters` clusters in communes of 100; one schedule for the whole province changes every
 * cluster's desired state. Measured: API call → every device's desired state delivered by the broker.
 * Baseline: the same number of messages of the same size published raw by one client on the same broker.
 */
export async function benchDesiredFanOut(
  cp: ControlPlane,
  clusters: number,
  bulletinId: string,
): Promise<BenchRow[]> {
  // Let the seeding's own desired states drain before measuring.
  const sizes: number[] = []
  const sub = await collector(cp.mqttUrl, 'loa/v1/device/+/desired', (_t, p) => {
    sizes.push(p.length)
    return 1
  })
  await new Promise((r) => setTimeout(r, 3000))
  sizes.length = 0
  sub.reset()

  const t0 = performance.now()
  await inject(cp, 'POST', '/api/schedules', {
    bulletinId,
    recurrence: {
      kind: 'weekly',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      times: ['06:00', '17:30'],
      startDate: '2026-01-01',
    },
    targets: { units: ['tinh'] },
  })
  const loaMs = await sub.until(clusters, () => t0, 120_000)
  const avgSize = Math.round(sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length))

  // Baseline: raw publishes of the same count and size on the same broker.
  const raw = await mqtt.connectAsync(cp.mqttUrl, {
    clientId: `bench-raw-${process.pid}`,
    reconnectPeriod: 0,
    ...brokerIdentity(),
  })
  const rawSub = await collector(cp.mqttUrl, 'bench/raw/+/desired', () => 1)
  const payload = Buffer.alloc(avgSize, 0x20)
  const t1 = performance.now()
  const inflight: Promise<unknown>[] = []
  for (let i = 0; i < clusters; i++) {
    inflight.push(raw.publishAsync(`bench/raw/c-${i}/desired`, payload, { qos: 1 }))
    if (inflight.length >= 200) await Promise.all(inflight.splice(0))
  }
  await Promise.all(inflight)
  const rawMs = await rawSub.until(clusters, () => t1, 120_000)
  await raw.endAsync()
  await rawSub.close()
  await sub.close()
  return [
    {
      name: `desired-state fan-out, ${clusters} clusters (${avgSize} B each)`,
      loa: fmt(loaMs),
      baseline: fmt(rawMs),
      ratio: `${(loaMs / rawMs).toFixed(2)}×`,
      throughput: `${Math.round(clusters / (loaMs / 1000))} devices/s`,
    },
  ]
}
