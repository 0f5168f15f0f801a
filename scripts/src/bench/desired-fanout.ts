import type { ControlPlane } from '@loa/control-plane'
import mqtt from 'mqtt'
import { collector, fmt } from './util.js'

export interface BenchRow {
  name: string
  loa: string
  baseline: string
  ratio: string
  throughput: string
}

async function inject(
  cp: ControlPlane,
  method: 'POST',
  url: string,
  payload: unknown,
): Promise<{ id?: string }> {
  const res = await cp.app.inject({ method, url, payload: payload as Record<string, unknown> })
  if (res.statusCode >= 300) throw new Error(`${url} → ${res.statusCode}: ${res.body}`)
  return res.json() as { id?: string }
}

/**
 * A province of `clusters` clusters in communes of 100; one schedule for the whole province changes every
 * cluster's desired state. Measured: API call → every device's desired state delivered by the broker.
 * Baseline: the same number of messages of the same size published raw by one client on the same broker.
 */
export async function benchDesiredFanOut(cp: ControlPlane, clusters: number): Promise<BenchRow[]> {
  const communes = Math.ceil(clusters / 100)
  await inject(cp, 'POST', '/api/units', { id: 'tinh', name: 'Tỉnh', kind: 'province', parentId: null })
  for (let c = 0; c < communes; c++) {
    await inject(cp, 'POST', '/api/units', {
      id: `xa-${c}`,
      name: `Xã ${c}`,
      kind: 'commune',
      parentId: 'tinh',
    })
  }
  const tSeed = performance.now()
  for (let i = 0; i < clusters; i++) {
    await inject(cp, 'POST', '/api/clusters', {
      id: `c-${i}`,
      name: `Cụm ${i}`,
      unitId: `xa-${Math.floor(i / 100)}`,
    })
  }
  console.log(`seeded ${clusters} clusters in ${communes} communes in ${fmt(performance.now() - tSeed)}`)

  // Let the seeding's own desired states drain before measuring.
  const sizes: number[] = []
  const sub = await collector(cp.mqttUrl, 'loa/v1/device/+/desired', (_t, p) => {
    sizes.push(p.length)
    return 1
  })
  await new Promise((r) => setTimeout(r, 3000))
  sizes.length = 0

  // The schedule needs a bulletin, and a bulletin real media: one second of tone, through the real pipeline.
  const wav = await makeSilence()
  const form = new FormData()
  form.append('file', new Blob([wav]), 'silence.wav')
  const up = await fetch(`${cp.httpUrl}/api/media`, { method: 'POST', body: form })
  const media = (await up.json()) as { sha256: string }
  const bulletin = await inject(cp, 'POST', '/api/bulletins', {
    title: 'Bench',
    level: 'normal',
    mediaSha256: media.sha256,
  })
  await new Promise((r) => setTimeout(r, 1000))
  sizes.length = 0
  sub.reset()

  const t0 = performance.now()
  await inject(cp, 'POST', '/api/schedules', {
    bulletinId: bulletin.id,
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

async function makeSilence(): Promise<Buffer> {
  const { execFile } = await import('node:child_process')
  const { promisify } = await import('node:util')
  const { stdout } = await promisify(execFile)(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=1',
      '-f',
      'wav',
      '-',
    ],
    { encoding: 'buffer', maxBuffer: 10 * 1024 * 1024 },
  )
  return stdout
}
