import { type ChildProcess, fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ControlPlane } from '@loa/control-plane'
import type { BenchRow } from './desired-fanout.js'
import { benchAuth, inject } from './seed.js'
import { fmt } from './util.js'

const WORKERS = 4
const SIM = join(dirname(fileURLToPath(import.meta.url)), 'sim-agents.js')

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

interface Worker {
  child: ChildProcess
  count: number
}

function ask<T>(w: Worker, message: unknown, key: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker did not answer "${key}" in ${timeoutMs} ms`)),
      timeoutMs,
    )
    const onMessage = (m: Record<string, unknown>) => {
      if ('error' in m) {
        clearTimeout(timer)
        reject(new Error(String(m.error)))
      } else if (key in m) {
        clearTimeout(timer)
        w.child.off('message', onMessage)
        resolve(m[key] as T)
      }
    }
    w.child.on('message', onMessage)
    if (message !== null) w.child.send(message as object)
  })
}

/** Starts `devices` simulated agents in worker processes, connected to `mqttUrl`. */
async function startSimulators(
  cp: ControlPlane,
  devices: number,
  communeOf: (i: number) => string,
): Promise<Worker[]> {
  const mqttUrl = cp.mqttUrl
  // Each simulated agent authenticates as itself, as a real one does (credentials issued once per bench run).
  const passwords = await devicePasswords(cp, devices)
  const workers: Worker[] = []
  for (let w = 0; w < WORKERS; w++) {
    const mine: { id: string; unitIds: string[]; password?: string }[] = []
    for (let i = w; i < devices; i += WORKERS) {
      mine.push({ id: `c-${i}`, unitIds: ['tinh', communeOf(i)], password: passwords.get(`c-${i}`) })
    }
    const worker: Worker = {
      child: fork(SIM, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
      count: mine.length,
    }
    workers.push(worker)
    await ask<number>(worker, { devices: mine, mqttUrl }, 'ready', 180_000)
  }
  return workers
}

const issued = new WeakMap<ControlPlane, Map<string, string>>()

async function devicePasswords(cp: ControlPlane, devices: number): Promise<Map<string, string>> {
  const known = issued.get(cp) ?? new Map<string, string>()
  issued.set(cp, known)
  for (let i = 0; i < devices; i++) {
    const id = `c-${i}`
    if (known.has(id)) continue
    const r = (await inject(cp, 'POST', `/api/clusters/${id}/credentials`, undefined)) as {
      password?: string
    }
    if (r.password) known.set(id, r.password)
  }
  return known
}

async function stopSimulators(workers: Worker[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.child.once('exit', () => resolve())
          w.child.send({ stop: true })
          setTimeout(() => w.child.kill('SIGKILL'), 10_000).unref()
        }),
    ),
  )
}

/**
 * Emergency fan-out: N simulated agents (real MQTT connections in worker processes) subscribed like real agents;
 * an alert raised through the API for their units; measured per device from the API call to its `playing`
 * acknowledgement, then until the control plane has aggregated all N.
 */
export async function benchEmergency(
  cp: ControlPlane,
  brokerName: string,
  devices: number,
  bulletinId: string,
): Promise<BenchRow> {
  const communeOf = (i: number) => `xa-${Math.floor(i / 100)}`
  const workers = await startSimulators(cp, devices, communeOf)
  try {
    const communes = Math.ceil(devices / 100)
    const units = devices >= 5000 ? ['tinh'] : Array.from({ length: communes }, (_, c) => `xa-${c}`)
    const acked = workers.map((w) => ask<[string, number][]>(w, null, 'acks', 120_000))
    const t0 = Date.now()
    const res = await fetch(`${cp.httpUrl}/api/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...benchAuth },
      body: JSON.stringify({ title: 'Bench', bulletinId, targets: { units }, expiresInS: 600 }),
    })
    const apiMs = Date.now() - t0
    if (!res.ok) throw new Error(`POST /api/alerts → ${res.status} ${await res.text()}`)
    const alert = (await res.json()) as { id: string; targetCount: number }
    const latencies = (await Promise.all(acked))
      .flat()
      .map(([, at]) => at - t0)
      .sort((a, b) => a - b)
    // Until the control plane has stored and aggregated every acknowledgement.
    let aggregatedMs = Number.NaN
    for (let i = 0; i < 600; i++) {
      const v = (await (
        await fetch(`${cp.httpUrl}/api/alerts/${alert.id}`, { headers: benchAuth })
      ).json()) as {
        counts: { playing: number }
      }
      if (v.counts.playing >= devices) {
        aggregatedMs = Date.now() - t0
        break
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    await fetch(`${cp.httpUrl}/api/alerts/${alert.id}/cancel`, { method: 'POST', headers: benchAuth })
    const p = (q: number) => fmt(percentile(latencies, q))
    return {
      name: `emergency fan-out, ${devices} devices, ${brokerName} (${units.length} unit publish${units.length > 1 ? 'es' : ''})`,
      loa: `p50 ${p(50)} · p95 ${p(95)} · p99 ${p(99)} · max ${p(100)}`,
      baseline: `API answered in ${fmt(apiMs)}`,
      ratio: `${latencies.length}/${devices} acked`,
      throughput: `all aggregated at ${fmt(aggregatedMs)}`,
    }
  } finally {
    await stopSimulators(workers)
  }
}
