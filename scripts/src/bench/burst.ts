import type { ControlPlane } from '@loa/control-plane'
import type { BenchRow } from './desired-fanout.js'
import { benchAuth } from './seed.js'
import { collector, fmt } from './util.js'

const MiB = 1024 * 1024

/** Samples this process's RSS and V8 heap (control plane, embedded broker, the bench's subscriber) every 50 ms. */
function rssSampler(): {
  peak(): number
  heapPeak(): number
  externalPeak(): number
  reset(): void
  stop(): void
} {
  let peak = 0
  let heapPeak = 0
  let externalPeak = 0
  const sample = () => {
    const m = process.memoryUsage()
    peak = Math.max(peak, m.rss)
    heapPeak = Math.max(heapPeak, m.heapUsed)
    externalPeak = Math.max(externalPeak, m.external)
  }
  sample()
  const timer = setInterval(sample, 50)
  return {
    peak: () => {
      sample()
      return peak
    },
    heapPeak: () => heapPeak,
    externalPeak: () => externalPeak,
    reset: () => {
      peak = 0
      heapPeak = 0
      externalPeak = 0
      sample()
    },
    stop: () => clearInterval(timer),
  }
}

/** Calls `fn(i)` for i in [0, n) at an even rate over `seconds`, without waiting for one call before the next. */
async function paced(n: number, seconds: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = []
  const started = performance.now()
  const calls: Promise<void>[] = []
  for (let i = 0; i < n; i++) {
    const due = started + (i * seconds * 1000) / n
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const t = performance.now()
    calls.push(fn(i).then(() => void latencies.push(performance.now() - t)))
  }
  await Promise.all(calls)
  return latencies.sort((a, b) => a - b)
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0

/**
 * The burst: an operator creates `schedules` schedules for one commune of 100 clusters in `createS`
 * seconds, then deletes them in `deleteS` seconds, in a province of `clusters` clusters. Measured: the peak RSS of
 * this process and the desired states published per device of that commune. Baseline, same run: one schedule for
 * the same commune, created and deleted (two changes), with its own RSS peak and publishes per device.
 */
export async function benchBurst(
  cp: ControlPlane,
  opts: { bulletinId: string; schedules: number; createS: number; deleteS: number },
): Promise<BenchRow[]> {
  const perDevice = new Map<string, number>()
  let bytes = 0
  const trace: string[] = []
  const t00 = performance.now()
  const sub = await collector(cp.mqttUrl, 'loa/v1/device/+/desired', (topic, p) => {
    if (p.length === 0) return 0
    const id = topic.split('/')[3] as string
    perDevice.set(id, (perDevice.get(id) ?? 0) + 1)
    bytes += p.length
    if (process.env.LOA_BENCH_TRACE && id === 'c-0')
      trace.push(`${((performance.now() - t00) / 1000).toFixed(1)}s:${p.length}`)
    return 1
  })
  const call = async (method: 'POST' | 'DELETE', url: string, payload?: unknown): Promise<string> => {
    const res = await cp.app.inject({
      method,
      url,
      headers: benchAuth,
      ...(payload ? { payload: payload as Record<string, unknown> } : {}),
    })
    if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body}`)
    return res.statusCode === 204 ? '' : ((res.json() as { id: string }).id ?? '')
  }
  const schedule = (i: number) => ({
    bulletinId: opts.bulletinId,
    title: `Bản tin ${i}`,
    recurrence: {
      kind: 'weekly',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      times: [`${String(6 + (i % 12)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`],
      startDate: '2026-01-01',
    },
    targets: { units: ['xa-0'] },
  })
  // Quiet: nothing published for 3 s.
  const quiet = async () => {
    for (let last = -1; ; ) {
      const seen = [...perDevice.values()].reduce((a, b) => a + b, 0)
      if (seen === last) return
      last = seen
      await new Promise((r) => setTimeout(r, 3000))
    }
  }
  const commune = (id: string) => Number(id.slice(2)) < 100
  const stats = () => {
    const counts = [...perDevice.entries()].filter(([id]) => commune(id)).map(([, n]) => n)
    const others = [...perDevice.entries()].filter(([id]) => !commune(id)).length
    return { max: Math.max(0, ...counts), devices: counts.length, others, bytes }
  }
  const reset = () => {
    perDevice.clear()
    bytes = 0
  }

  await quiet()
  global.gc?.()
  const rss = rssSampler()
  try {
    // Baseline: one create and one delete.
    reset()
    rss.reset()
    const one = await call('POST', '/api/schedules', schedule(0))
    await call('DELETE', `/api/schedules/${one}`)
    await quiet()
    const base = { ...stats(), peak: rss.peak(), heap: rss.heapPeak() }

    global.gc?.()
    reset()
    rss.reset()
    const t0 = performance.now()
    const ids: string[] = []
    const createLat = await paced(opts.schedules, opts.createS, async (i) => {
      ids[i] = await call('POST', '/api/schedules', schedule(i + 1))
    })
    const deleteLat = await paced(opts.schedules, opts.deleteS, async (i) => {
      await call('DELETE', `/api/schedules/${ids[i]}`)
    })
    const apiMs = performance.now() - t0
    await quiet()
    const burst = { ...stats(), peak: rss.peak(), heap: rss.heapPeak(), external: rss.externalPeak() }
    if (trace.length > 0) console.log(`c-0 publishes: ${trace.join(' ')}`)
    console.log(
      `burst: ${opts.schedules} creates (p50 ${fmt(pct(createLat, 0.5))}, p99 ${fmt(pct(createLat, 0.99))}) and ` +
        `deletes (p50 ${fmt(pct(deleteLat, 0.5))}, p99 ${fmt(pct(deleteLat, 0.99))}) in ${fmt(apiMs)}; ` +
        `${(burst.bytes / MiB).toFixed(1)} MiB of desired states published, ${burst.others} devices outside the commune; ` +
        `V8 heap peak ${(burst.heap / MiB).toFixed(0)} MiB (baseline ${(base.heap / MiB).toFixed(0)} MiB), ` +
        `external (buffers) peak ${(burst.external / MiB).toFixed(0)} MiB`,
    )
    const changes = 2 * opts.schedules
    return [
      {
        name: `burst: ${opts.schedules} schedules created in ${opts.createS} s then deleted in ${opts.deleteS} s, one commune of ${burst.devices} clusters — peak RSS`,
        loa: `${(burst.peak / MiB).toFixed(0)} MiB`,
        baseline: `${(base.peak / MiB).toFixed(0)} MiB (one create + delete)`,
        ratio: `${(burst.peak / base.peak).toFixed(2)}×`,
        throughput: `${Math.round(changes / (apiMs / 1000))} changes/s`,
      },
      {
        name: `burst: desired states published per device (max over the commune) for ${changes} changes`,
        loa: `${burst.max}`,
        baseline: `${base.max} (one create + delete)`,
        ratio: `${(burst.max / Math.max(1, base.max)).toFixed(1)}×`,
        throughput: `${(burst.bytes / MiB / Math.max(1, burst.devices)).toFixed(2)} MiB per device`,
      },
    ]
  } finally {
    rss.stop()
    await sub.close()
  }
}
