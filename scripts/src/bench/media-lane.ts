import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { type ControlPlane, type ControlPlaneConfig, createControlPlane } from '@loa/control-plane'
import { parseCap, parseCapWithInlineAudio } from '@loa/control-plane/testing'
import pino from 'pino'
import type { BenchRow } from './desired-fanout.js'
import { BENCH_TOKEN, benchAuth, inject } from './seed.js'
import { fmt } from './util.js'

/**
 * Media work against alerts and the event loop (docs/performance.md#media-work-and-the-alert-lane):
 *
 * - the control plane's event-loop delay, and `/healthz` as a separate process sees it, while a 15 MB media upload
 *   and a 15 MB CAP document with inline audio are received and processed; baseline: the same plane idle;
 * - the synchronous parse of that CAP document, with its inline audio lifted out and (as before) without;
 * - how long an API alert whose text must be spoken takes to be answered while two long uploads fill the ordinary
 *   lane, with the ordinary ffmpeg processes niced (the default) and not; baseline: the same alert, plane idle.
 *
 * Clients (curl, the /healthz prober) are separate processes, so they do not share the plane's event loop.
 */

const run = promisify(execFile)
const SPEECH =
  'Cảnh báo lũ quét khẩn cấp. Lũ quét đang xảy ra tại xã A. Người dân di chuyển lên vùng cao ngay, không đi ' +
  'qua suối và ngầm tràn. Lực lượng cứu hộ đã có mặt tại nhà văn hoá thôn. Giữ liên lạc với trưởng thôn.'
/** Alerts measured per scenario (median reported). */
const REPEATS = 3

async function ffmpegFile(file: string, args: string[]): Promise<string> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, file])
  return file
}

async function startPlane(dir: string, extra: Partial<ControlPlaneConfig> = {}): Promise<ControlPlane> {
  const cp = await createControlPlane({
    dataDir: mkdtempSync(join(dir, 'plane-')),
    httpHost: '127.0.0.1',
    httpPort: 0,
    mqttHost: '127.0.0.1',
    mqttPort: 0,
    logger: pino({ level: 'warn' }),
    bootstrapToken: BENCH_TOKEN,
    // Long uploads are accepted: they are what fills the ordinary lane.
    maxMediaSeconds: 7200,
    ...extra,
  })
  await inject(cp, 'POST', '/api/units', {
    id: 'tinh',
    name: 'Tỉnh',
    kind: 'province',
    parentId: null,
    code: '46',
  })
  await inject(cp, 'POST', '/api/units', {
    id: 'xa-a',
    name: 'Xã A',
    kind: 'commune',
    parentId: 'tinh',
    code: '19753',
  })
  await inject(cp, 'POST', '/api/clusters', { id: 'c-a', name: 'Cụm A', unitId: 'xa-a' })
  return cp
}

/** curl in its own process: the upload's client work stays off the plane's event loop. */
function curl(args: string[]): { done: Promise<string>; kill(): void } {
  const child = spawn('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-H',
    `authorization: ${benchAuth.authorization}`,
    ...args,
  ])
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const done = new Promise<string>((resolve) => child.on('close', () => resolve(out)))
  return { done, kill: () => child.kill('SIGKILL') }
}

const PROBER = `
const url = process.argv[1]; let max = 0; let n = 0; let stop = false
process.stdin.on('end', () => { stop = true }); process.stdin.resume()
while (!stop) {
  const t = performance.now()
  try { await (await fetch(url)).text() } catch {}
  max = Math.max(max, performance.now() - t); n++
  await new Promise((r) => setTimeout(r, 10))
}
console.log(JSON.stringify({ max, n }))
`

interface LoopFigures {
  loopMaxMs: number
  loopP99Ms: number
  healthzMaxMs: number
}

/** Event-loop delay of this process (the plane's) and /healthz from another process while `action` runs. */
async function underLoad(cp: ControlPlane, action: () => Promise<unknown>): Promise<LoopFigures> {
  const prober = spawn(process.execPath, ['--input-type=module', '-e', PROBER, `${cp.httpUrl}/healthz`])
  let out = ''
  prober.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise((r) => prober.on('close', r))
  await new Promise((r) => setTimeout(r, 300))
  const h = monitorEventLoopDelay({ resolution: 5 })
  h.enable()
  await action()
  h.disable()
  prober.stdin.end()
  await exited
  return {
    loopMaxMs: h.max / 1e6,
    loopP99Ms: h.percentile(99) / 1e6,
    healthzMaxMs: (JSON.parse(out) as { max: number }).max,
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

let spoken = 0
/** An API alert whose text must be spoken and transcoded (new text each time: nothing is deduplicated). */
async function alertWithText(cp: ControlPlane): Promise<number> {
  const t0 = performance.now()
  await inject(cp, 'POST', '/api/alerts', {
    title: 'Lũ quét',
    text: `${SPEECH} Bản tin số ${++spoken}.`,
    targets: { units: ['xa-a'] },
  })
  return performance.now() - t0
}

async function ordinaryRunning(cp: ControlPlane): Promise<number> {
  const res = await cp.app.inject({ method: 'GET', url: '/metrics', headers: benchAuth })
  return Number(/^loa_media_jobs\{lane="ordinary",state="running"\} (\d+)$/m.exec(res.body)?.[1] ?? 0)
}

/** Median time to answer an alert with text while two long uploads fill the ordinary lane of a fresh plane. */
async function alertsWhileSaturated(dir: string, silence: string[], nice: number): Promise<number> {
  const cp = await startPlane(dir, { mediaNice: nice })
  const uploads = silence.map((f) => curl(['-F', `file=@${f}`, `${cp.httpUrl}/api/media`]))
  try {
    for (let i = 0; (await ordinaryRunning(cp)) < 2; i++) {
      if (i > 600) throw new Error('the ordinary lane never filled')
      await new Promise((r) => setTimeout(r, 50))
    }
    const times: number[] = []
    for (let i = 0; i < REPEATS; i++) times.push(await alertWithText(cp))
    if ((await ordinaryRunning(cp)) < 2)
      throw new Error('an ordinary upload finished before the alerts: too short')
    return median(times)
  } finally {
    for (const u of uploads) u.kill()
    // Closing kills the ordinary transcodes still running.
    await cp.close()
  }
}

const row = (name: string, loa: number, baseline: number, baselineName: string): BenchRow => ({
  name,
  loa: fmt(loa),
  baseline: `${fmt(baseline)} (${baselineName})`,
  ratio: `${(loa / baseline).toFixed(2)}×`,
  throughput: '',
})

export async function benchMediaLane(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-bench-media-'))
  const rows: BenchRow[] = []
  try {
    // About 15 MB each: three minutes of 44.1 kHz mono WAV, and a CAP alert carrying 11 MB of it in base64.
    const wav = await ffmpegFile(join(dir, 'bulletin.wav'), [
      '-f',
      'lavfi',
      '-i',
      'anoisesrc=d=170:a=0.1',
      '-ac',
      '1',
    ])
    const sent = `${new Date().toISOString().slice(0, 19)}+00:00`
    const sample = readFileSync(
      new URL('../../../control-plane/src/alerts/cap/samples/actual.xml', import.meta.url),
      'utf8',
    )
    const xml = sample.replace(/<sent>[^<]+<\/sent>/, `<sent>${sent}</sent>`).replace(
      '<area>',
      `<resource><resourceDesc>Bản tin</resourceDesc><mimeType>audio/wav</mimeType><derefUri>${readFileSync(
        wav,
      )
        .subarray(0, 11 * 1024 * 1024 + 44)
        .toString('base64')}</derefUri></resource><area>`,
    )
    const capFile = join(dir, 'alert.xml')
    writeFileSync(capFile, xml)
    const silence = await Promise.all(
      [40, 41].map((min) =>
        ffmpegFile(join(dir, `silence-${min}.flac`), [
          ...['-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', String(min * 60)],
          ...['-c:a', 'flac', '-frame_size', '65535'],
        ]),
      ),
    )

    const cp = await startPlane(dir)
    try {
      const idle = await underLoad(cp, () => new Promise((r) => setTimeout(r, 3000)))
      const media = await underLoad(
        cp,
        () => curl(['-F', `file=@${wav};type=audio/wav`, `${cp.httpUrl}/api/media`]).done,
      )
      const cap = await underLoad(cp, async () => {
        const code = await curl([
          ...['-H', 'content-type: application/cap+xml', '--data-binary', `@${capFile}`],
          `${cp.httpUrl}/api/cap`,
        ]).done
        if (code !== '201') throw new Error(`CAP → ${code}`)
      })
      for (const [what, f] of [
        ['15 MB media upload', media],
        ['15 MB CAP with inline audio', cap],
      ] as const) {
        rows.push(
          row(`event loop, max delay during a ${what}`, f.loopMaxMs, idle.loopMaxMs, 'idle, same plane'),
        )
        rows.push(row(`/healthz, slowest answer during a ${what}`, f.healthzMaxMs, idle.healthzMaxMs, 'idle'))
      }
      const lifted = performance.now()
      parseCapWithInlineAudio(xml)
      const liftedMs = performance.now() - lifted
      const whole = performance.now()
      parseCap(xml)
      const wholeMs = performance.now() - whole
      rows.push(
        row(
          'CAP parse of 15 MB, inline audio lifted out (synchronous)',
          liftedMs,
          wholeMs,
          'parsed whole, as before',
        ),
      )

      const withMedia: number[] = []
      const sha = (
        JSON.parse((await cp.app.inject({ method: 'GET', url: '/api/media', headers: benchAuth })).body) as {
          media: { sha256: string }[]
        }
      ).media[0]?.sha256
      for (let i = 0; i < REPEATS; i++) {
        const t0 = performance.now()
        await inject(cp, 'POST', '/api/alerts', {
          title: 'Còi',
          mediaSha256s: [sha],
          targets: { units: ['xa-a'] },
        })
        withMedia.push(performance.now() - t0)
      }
      const idleText: number[] = []
      for (let i = 0; i < REPEATS; i++) idleText.push(await alertWithText(cp))
      rows.push(
        row(
          'alert with text (spoken, transcoded), plane idle',
          median(idleText),
          median(withMedia),
          'alert with ready media',
        ),
      )
      const niced = await alertsWhileSaturated(dir, silence, 10)
      const notNiced = await alertsWhileSaturated(dir, silence, 0)
      rows.push(
        row(
          'alert with text, ordinary lane full, ordinary ffmpeg niced (10)',
          niced,
          median(idleText),
          'alert with text, idle',
        ),
      )
      rows.push(
        row(
          'alert with text, ordinary lane full, not niced',
          notNiced,
          median(idleText),
          'alert with text, idle',
        ),
      )
    } finally {
      await cp.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}
