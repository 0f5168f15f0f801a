import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedBroker } from '@loa/control-plane/testing'
import {
  DESIRED_LIMITS,
  type DesiredStateBody,
  encodeMessage,
  type ScheduleEntry,
  serializeMessage,
  topicTree,
} from '@loa/shared'
import { generateSigningKey, signEnvelope, signerFromPem } from '@loa/shared/signing'
import { freePort } from '@loa/testkit'
import mqtt from 'mqtt'
import type { BenchRow } from './desired-fanout.js'

const MiB = 1024 * 1024
const tree = topicTree('loa')
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/**
 * The node flags the box's systemd unit starts the agent with, so the bench measures what a box runs
 * (`LOA_BENCH_AGENT_FLAGS` overrides them, e.g. empty for node's defaults).
 */
export function serviceNodeFlags(): string[] {
  const given = process.env.LOA_BENCH_AGENT_FLAGS
  if (given !== undefined) return given.split(/\s+/).filter(Boolean)
  const unit = readFileSync(new URL('../../../firmware-images/loa-agent.service', import.meta.url), 'utf8')
  const exec = /^ExecStart=\S*node((?:\s+--\S+)*)\s/m.exec(unit)
  return (exec?.[1] ?? '').split(/\s+/).filter(Boolean)
}

/** VmRSS and CPU time (user + system) of a process, from /proc. */
function usage(pid: number): { rss: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return { rss: rssKb * 1024, cpuMs: ticks * 10 }
}

/** The largest desired state the limits allow, in bytes: long titles, many items per entry, every entry used. */
function largestState(deviceId: string, media: { sha256: string; size: number }[], version: number) {
  const title = 'Bản tin thông tin cơ sở về phòng chống thiên tai, dịch bệnh và an toàn giao thông '.repeat(3)
  const base: DesiredStateBody = {
    deviceId,
    version,
    generatedAt: new Date().toISOString(),
    timezone: 'Asia/Ho_Chi_Minh',
    units: ['tinh', 'xa-0'],
    volume: 80,
    media: media.map((m) => ({
      sha256: m.sha256,
      size: m.size,
      url: `/media/${m.sha256}`,
      mime: 'audio/ogg',
      durationMs: 1000,
    })),
    schedule: [],
    fallback: null,
  }
  const entry = (i: number, items: number): ScheduleEntry => ({
    id: `s-${String(i).padStart(8, '0')}-${'x'.repeat(20)}`,
    title: title.slice(0, DESIRED_LIMITS.titleLength),
    level: 'normal',
    priority: 50,
    items: Array.from(
      { length: items },
      (_, k) => (media[(i + k) % media.length] as { sha256: string }).sha256,
    ),
    recurrence: {
      kind: 'weekly',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      times: ['06:00', '11:00', '17:00'],
      startDate: '2026-01-01',
    },
  })
  // Items per entry so that the whole state just fits the byte limit.
  const budget =
    DESIRED_LIMITS.maxBytes - DESIRED_LIMITS.envelopeReserveBytes - Buffer.byteLength(JSON.stringify(base))
  const oneItem = Buffer.byteLength(JSON.stringify(entry(0, 1))) + 1
  const perItem = 67
  const items = Math.max(
    1,
    Math.min(
      DESIRED_LIMITS.itemsPerEntry,
      Math.floor((budget / DESIRED_LIMITS.schedule - oneItem) / perItem) + 1,
    ),
  )
  base.schedule = Array.from({ length: DESIRED_LIMITS.schedule }, (_, i) => entry(i, items))
  while (
    Buffer.byteLength(JSON.stringify(base)) >
    DESIRED_LIMITS.maxBytes - DESIRED_LIMITS.envelopeReserveBytes
  ) {
    base.schedule.pop()
  }
  return base
}

/**
 * One real agent process (edge-agent/dist/main.js) on an embedded broker, with its media served over HTTP.
 * Measured: its RSS idle, after applying the largest desired state the limits allow, and after a burst of
 * 1,000 states older than the one it holds, with the CPU time the burst cost. Baseline, same run: the CPU time and
 * RSS of applying one largest state.
 */
export async function benchAgentMemory(opts: { burst: number } = { burst: 1000 }): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-bench-agent-'))
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })
  const files = new Map<string, Buffer>()
  const media = Array.from({ length: 50 }, () => {
    const data = randomBytes(2048)
    const s = sha(data)
    files.set(`/media/${s}`, data)
    return { sha256: s, size: data.length }
  })
  const http = createServer((req, res) => {
    const data = files.get(new URL(req.url ?? '/', 'http://x').pathname)
    if (!data) res.writeHead(404).end()
    else res.writeHead(200, { 'content-length': data.length }).end(data)
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  const key = generateSigningKey()
  const signer = signerFromPem(key.privateKeyPem)
  const deviceId = 'pi-bench'
  const config = {
    deviceId,
    mqtt: { url: broker.url },
    controlPlaneUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    controlPlaneKey: { keyId: key.keyId, publicKey: key.publicKey },
    dataDir: join(dir, 'data'),
    output: 'null',
    logLevel: 'warn',
    telemetryIntervalS: 3600,
    minFreeMb: 0,
    localPage: { port: await freePort(), host: '127.0.0.1' },
  }
  const configFile = join(dir, 'agent.json')
  writeFileSync(configFile, JSON.stringify(config))
  // LOA_BENCH_AGENT_MAIN: another build of the agent (e.g. an older checkout) fed the same states, to compare.
  const agentMain =
    process.env.LOA_BENCH_AGENT_MAIN ?? new URL('../../../edge-agent/dist/main.js', import.meta.url).pathname
  const child: ChildProcess = spawn(
    process.execPath,
    [...serviceNodeFlags(), agentMain, '--config', configFile],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  const pid = child.pid as number
  const cp = await mqtt.connectAsync(broker.url, { clientId: 'bench-cp' })
  const reported: { receivedVersion: number | null; desiredVersion: number | null }[] = []
  cp.on('message', (topic, payload) => {
    if (!topic.endsWith('/reported')) return
    const msg = JSON.parse(payload.toString()) as { id: string; body: (typeof reported)[number] }
    reported.push(msg.body)
  })
  await cp.subscribeAsync(tree.device(deviceId, 'reported'), { qos: 1 })
  const publish = (body: DesiredStateBody) =>
    cp.publishAsync(
      tree.device(deviceId, 'desired'),
      serializeMessage('desired', signEnvelope(encodeMessage('desired', 'control-plane', body), signer)),
      { qos: 1 },
    )
  const until = async (what: string, ok: () => boolean, timeoutMs = 120_000) => {
    const end = Date.now() + timeoutMs
    while (!ok()) {
      if (Date.now() > end) throw new Error(`agent bench: timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const applied = (v: number) => () => reported.some((r) => r.desiredVersion === v)
  const settle = () => new Promise((r) => setTimeout(r, 5000))
  try {
    await until('agent presence', () => reported.length > 0, 30_000)
    await settle()
    const idle = usage(pid)
    const top = opts.burst + 1
    const largest = largestState(deviceId, media, top)
    const largestBytes = Buffer.byteLength(JSON.stringify(largest))
    const t1 = usage(pid)
    await publish(largest)
    await until('largest state applied', applied(top))
    await settle()
    const afterLargest = usage(pid)
    // The burst: `burst` states the one held supersedes (what a box got from a control plane that published every
    // intermediate version, or a replay), each of the largest size; then one newer, to know they were all handled.
    const progress = setInterval(() => {
      const u = usage(pid)
      console.log(`  … rss ${(u.rss / MiB).toFixed(0)} MiB, cpu ${u.cpuMs} ms`)
    }, 10_000)
    try {
      for (let v = 1; v <= opts.burst; v++) await publish({ ...largest, version: v })
      await publish({ ...largest, version: top + 1, volume: 81 })
      await until('newest state applied', applied(top + 1), 900_000)
    } finally {
      clearInterval(progress)
    }
    await settle()
    const afterBurst = usage(pid)
    const oneCpu = afterLargest.cpuMs - t1.cpuMs
    const burstCpu = afterBurst.cpuMs - afterLargest.cpuMs
    console.log(
      `agent (node ${serviceNodeFlags().join(' ')}): idle ${(idle.rss / MiB).toFixed(0)} MiB, after the largest state (${(largestBytes / 1024).toFixed(0)} KiB, ${largest.schedule.length} entries) ${(afterLargest.rss / MiB).toFixed(0)} MiB, after ${opts.burst} superseded ${(afterBurst.rss / MiB).toFixed(0)} MiB; CPU ${oneCpu} ms for one, ${burstCpu} ms for the burst`,
    )
    return [
      {
        name: `agent RSS, idle → largest allowed state (${(largestBytes / 1024).toFixed(0)} KiB)`,
        loa: `${(afterLargest.rss / MiB).toFixed(0)} MiB`,
        baseline: `${(idle.rss / MiB).toFixed(0)} MiB idle`,
        ratio: `${(afterLargest.rss / idle.rss).toFixed(2)}×`,
        throughput: `${oneCpu} ms CPU to apply it`,
      },
      {
        name: `agent after ${opts.burst} superseded desired states of that size`,
        loa: `${(afterBurst.rss / MiB).toFixed(0)} MiB, ${burstCpu} ms CPU`,
        baseline: `${(afterLargest.rss / MiB).toFixed(0)} MiB, ${oneCpu} ms CPU for one state`,
        ratio: `${(afterBurst.rss / afterLargest.rss).toFixed(2)}× RSS, ${(burstCpu / Math.max(1, oneCpu)).toFixed(1)}× CPU`,
        throughput: `${(burstCpu / opts.burst).toFixed(1)} ms CPU per superseded state`,
      },
    ]
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    await cp.endAsync()
    await broker.close()
    http.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
