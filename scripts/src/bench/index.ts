#!/usr/bin/env node
/**
 * `npm run bench`: the control plane at province scale, measured against a baseline run in the same process on
 * the same broker, so the ratios hold on a noisy shared machine. See docs/performance.md.
 *
 *   LOA_BENCH_CLUSTERS  clusters in the province (default 10000)
 *   LOA_BENCH_PLAYS     proof-of-play messages for the ingest bench (default 20000)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { createControlPlane } from '@loa/control-plane'
import pino from 'pino'
import { benchDesiredFanOut } from './desired-fanout.js'
import { benchIngest } from './ingest.js'
import { freePort } from './util.js'

async function main(): Promise<void> {
  const clusters = Number(process.env.LOA_BENCH_CLUSTERS ?? 10_000)
  const plays = Number(process.env.LOA_BENCH_PLAYS ?? 20_000)
  const dir = mkdtempSync(join(tmpdir(), 'loa-bench-'))
  console.log(
    `Loa bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  )
  const cp = await createControlPlane({
    dataDir: dir,
    httpHost: '127.0.0.1',
    httpPort: 0,
    mqttHost: '127.0.0.1',
    mqttPort: await freePort(),
    logger: pino({ level: 'warn' }),
  })
  try {
    const rows = [
      ...(await benchDesiredFanOut(cp, clusters)),
      ...(await benchIngest(cp, Math.min(clusters, 1000), plays)),
    ]
    console.log('')
    console.log('| bench | loa | baseline (raw broker, same run) | ratio | throughput |')
    console.log('|---|---|---|---|---|')
    for (const r of rows) {
      console.log(`| ${r.name} | ${r.loa} | ${r.baseline} | ${r.ratio} | ${r.throughput} |`)
    }
  } finally {
    await cp.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
