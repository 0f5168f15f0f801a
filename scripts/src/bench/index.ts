#!/usr/bin/env node

/**
 * `npm run bench`: the control plane at province scale. Each figure comes with a baseline measured in the same
 * run (raw broker traffic of the same shape), so the ratios hold on a noisy shared machine. See
 * docs/performance.md.
 *
 *   LOA_BENCH           which benches, comma-separated: desired,ingest,emergency,burst,validate,agent,media,agentdb
 *                       (default: all)
 *   LOA_BENCH_CLUSTERS  clusters in the province (default 10000)
 *   LOA_BENCH_PLAYS     proof-of-play messages for the ingest bench (default 20000)
 *   LOA_BENCH_ALERT_DEVICES  simulated agents for the emergency bench (default 1000,5000)
 *   LOA_BENCH_BURST     schedules,createSeconds,deleteSeconds of the burst bench (default 1500,20,120)
 *   LOA_BENCH_AGENT_MAIN, LOA_BENCH_AGENT_FLAGS  the agent build and node flags of the agent bench (default: this
 *                       checkout's edge-agent/dist/main.js with the flags of firmware-images/loa-agent.service)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { CONTROL_PLANE_USERNAME, type ControlPlane, createControlPlane } from '@loa/control-plane'
import { freePort } from '@loa/testkit'
import pino from 'pino'
import { benchAgentDb } from './agent-db.js'
import { benchAgentMemory } from './agent-memory.js'
import { benchBurst } from './burst.js'
import { type BenchRow, benchDesiredFanOut } from './desired-fanout.js'
import { benchEmergency } from './emergency.js'
import { benchIngest } from './ingest.js'
import { benchMediaLane } from './media-lane.js'
import { findMosquitto, startMosquitto } from './mosquitto.js'
import { BENCH_TOKEN, seedBulletin, seedProvince } from './seed.js'
import { useBrokerIdentity } from './util.js'
import { benchValidate } from './validate.js'

const selected = new Set(
  (process.env.LOA_BENCH ?? 'desired,ingest,emergency,burst,validate,agent,media,agentdb')
    .split(',')
    .map((s) => s.trim()),
)
const alertSizes = (process.env.LOA_BENCH_ALERT_DEVICES ?? '1000,5000').split(',').map(Number)

async function startPlane(dataDir: string, mqttUrl: string | null): Promise<ControlPlane> {
  const cp = await createControlPlane({
    dataDir,
    httpHost: '127.0.0.1',
    httpPort: 0,
    mqttHost: '127.0.0.1',
    mqttPort: await freePort(),
    mqttUrl,
    logger: pino({ level: 'warn' }),
    bootstrapToken: BENCH_TOKEN,
  })
  // Bench clients act as the control plane on the broker (devices may only use their own topics).
  const password = readFileSync(join(dataDir, 'mqtt-control-plane.secret'), 'utf8').trim()
  useBrokerIdentity({ username: CONTROL_PLANE_USERNAME, password })
  return cp
}

async function main(): Promise<void> {
  const wanted =
    selected.has('desired') || selected.has('ingest') || selected.has('burst')
      ? Number(process.env.LOA_BENCH_CLUSTERS ?? 10_000)
      : 0
  const clusters = Math.max(wanted, ...(selected.has('emergency') ? alertSizes : [0]))
  const plays = Number(process.env.LOA_BENCH_PLAYS ?? 20_000)
  const dir = mkdtempSync(join(tmpdir(), 'loa-bench-'))
  const dataDir = join(dir, 'control-plane')
  console.log(
    `Loa bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  )
  const rows: BenchRow[] = []
  // The agent's own database and memory, and the validator: no control plane needed.
  if (selected.has('agentdb')) rows.push(...(await benchAgentDb()))
  if (selected.has('validate')) rows.push(...benchValidate())
  if (selected.has('agent')) rows.push(...(await benchAgentMemory()))
  if (!['desired', 'ingest', 'emergency', 'burst'].some((b) => selected.has(b))) {
    if (selected.has('media')) rows.push(...(await benchMediaLane()))
    return printRows(rows)
  }
  let cp = await startPlane(dataDir, null)
  try {
    await seedProvince(cp, clusters)
    const bulletinId = await seedBulletin(cp)
    if (selected.has('desired')) rows.push(...(await benchDesiredFanOut(cp, clusters, bulletinId)))
    if (selected.has('ingest')) rows.push(...(await benchIngest(cp, Math.min(clusters, 1000), plays)))
    if (selected.has('burst')) {
      const [schedules = 1500, createS = 20, deleteS = 120] = (process.env.LOA_BENCH_BURST ?? '')
        .split(',')
        .filter(Boolean)
        .map(Number)
      rows.push(...(await benchBurst(cp, { bulletinId, schedules, createS, deleteS })))
    }
    if (selected.has('emergency')) {
      for (const n of alertSizes) rows.push(await benchEmergency(cp, 'embedded aedes', n, bulletinId))
      const binary = findMosquitto()
      if (binary === null) {
        console.log('mosquitto is not installed (and cannot be, not root): skipping its emergency runs')
      } else {
        await cp.close()
        const mosquitto = await startMosquitto(binary, dir)
        try {
          cp = await startPlane(dataDir, mosquitto.url)
          for (const n of alertSizes) rows.push(await benchEmergency(cp, 'Mosquitto 2', n, bulletinId))
        } finally {
          await cp.close()
          await mosquitto.stop()
        }
      }
    }
  } finally {
    await cp.close()
    rmSync(dir, { recursive: true, force: true })
  }
  // Its own planes: media work must not share a plane with the province-scale benches.
  if (selected.has('media')) rows.push(...(await benchMediaLane()))
  printRows(rows)
}

function printRows(rows: BenchRow[]): void {
  console.log('')
  console.log('| bench | loa | baseline | ratio | throughput |')
  console.log('|---|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.name} | ${r.loa} | ${r.baseline} | ${r.ratio} | ${r.throughput} |`)
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
