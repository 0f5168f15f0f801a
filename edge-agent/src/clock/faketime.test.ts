import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type AlertSpec,
  Bands,
  type DesiredStateBody,
  type ScheduleEntry,
  serializeMessage,
  topicTree,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signed, TEST_KEY } from '../../test-kit/messages.js'
import {
  type MediaServer,
  receiptingClient,
  startBroker,
  startMediaServer,
  type Upstream,
} from '../../test-kit/servers.js'
import { tmp, tone } from '../../test-kit/test-helpers.js'

// The real agent process, its wall clock faked by Debian's libfaketime (package `faketime`, installed by
// `scripts/setup.sh test`) and changed while it runs through FAKETIME_TIMESTAMP_FILE (re-read on every call with
// FAKETIME_NO_CACHE=1). Monotonic time is left real (FAKETIME_DONT_FAKE_MONOTONIC=1), as on a box whose clock NTP
// steps. Every instant below derives from the real clock at run time.

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url))
const DEVICE = 'pi-faketime'
const tree = topicTree('loa')
const H = 3600_000

function libfaketime(): string {
  for (const dir of readdirSync('/usr/lib', { withFileTypes: true })) {
    const p = join('/usr/lib', dir.name, 'faketime', 'libfaketime.so.1')
    if (dir.isDirectory() && existsSync(p)) return p
  }
  throw new Error('libfaketime not found: install the Debian package faketime (scripts/setup.sh test)')
}

/**
 * Under an outer faketime (`faketime -f +400d npm test`, the date-bomb run) this process is faked too, and the outer
 * FAKETIME variable would win over the agent's timestamp file: the agent's offsets are composed with it instead.
 */
function outerOffsetS(): number {
  const f = process.env.FAKETIME?.trim()
  if (!f) return 0
  const m = /^([+-]\d+(?:\.\d+)?)([smhdy]?)$/.exec(f)
  if (!m) throw new Error(`cannot compose with FAKETIME=${f}: use a relative offset such as +400d`)
  const unit: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, y: 365 * 86_400 }
  return Number(m[1]) * (unit[m[2] as string] as number)
}
const offsetLine = (seconds: number) => `${seconds >= 0 ? '+' : ''}${seconds}\n`

const onceAt = (id: string, at: number, items: string[]): ScheduleEntry => ({
  id,
  title: id,
  level: 'normal',
  priority: 50,
  items,
  recurrence: {
    kind: 'once',
    at: new Date(Math.round(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
  },
})
const instantOf = (e: ScheduleEntry) => (e.recurrence.kind === 'once' ? Date.parse(e.recurrence.at) : 0)

describe('the agent process under faketime: booted 2 h ahead, then NTP steps the clock back', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let media: MediaServer
  const children: ChildProcess[] = []
  beforeAll(async () => {
    broker = await startBroker()
    media = await startMediaServer()
  })
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    await media.close()
    await broker.close()
  })

  it('reports no phantom "missed", plays an emergency, plays the schedule after the correction, uptime stays sane', async () => {
    const dir = tmp()
    const dataDir = join(dir, 'data')
    const synced = join(dir, 'ntp-synchronized') // absent: NTP has not synchronised the clock
    const fakeFile = join(dir, 'faketime.rc')
    const audio = tone(dir, 1)
    media.files.set(`/media/${audio.sha256}`, audio.data)
    const cfg = join(dir, 'agent.json')
    writeFileSync(
      cfg,
      JSON.stringify({
        deviceId: DEVICE,
        mqtt: { url: broker.url },
        controlPlaneUrl: media.url,
        controlPlaneKey: TEST_KEY,
        dataDir,
        output: 'null',
        prerollMs: 200,
        postrollMs: 200,
        telemetryIntervalS: 1,
        logLevel: 'info',
        localPage: { host: 'off' },
        clock: { sync: `file:${synced}` },
      }),
    )
    const { cp, ups } = await receiptingClient(broker.url, 'faketime-cp')
    // A message published again (after a step back every unreceipted entry is) counts once, as the control
    // plane stores it once: the same body is the same report.
    const bodies = (channel: string) => {
      const seenBodies = new Set<string>()
      return ups
        .filter((u: Upstream) => u.topic.endsWith(`/${channel}`))
        .map((u) => u.body)
        .filter((b) => {
          const k = JSON.stringify(b)
          if (seenBodies.has(k)) return false
          seenBodies.add(k)
          return true
        })
    }
    const plays = (id?: string) => bodies('play').filter((p) => id === undefined || p.scheduleId === id)
    let log = ''
    const launch = (env: NodeJS.ProcessEnv) => {
      const merged: NodeJS.ProcessEnv = { ...process.env, ...env }
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k]
      const child = spawn(process.execPath, [MAIN, '--config', cfg], {
        env: merged,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.push(child)
      child.stdout?.on('data', (d) => {
        log += d
      })
      child.stderr?.on('data', (d) => {
        log += d
      })
      return child
    }
    const stop = async (child: ChildProcess) => {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
    try {
      // Run 1, right clock: receives its schedule and media, then a power cut (a clean stop keeps it simple).
      const t0 = Date.now()
      const e = {
        early: onceAt('early', t0 + 2 * H + 20_000, [audio.sha256]), // due by the wrong clock: played early, once
        after1: onceAt('after1', t0 + 38_000, [audio.sha256]), // after the correction: on time
        after2: onceAt('after2', t0 + 46_000, [audio.sha256]),
        later: onceAt('later', t0 + H, [audio.sha256]), // still ahead after the correction: never reported
      }
      const body: DesiredStateBody = {
        deviceId: DEVICE,
        version: 1,
        generatedAt: new Date(t0).toISOString().replace(/\.\d+Z$/, 'Z'),
        timezone: 'Asia/Ho_Chi_Minh',
        units: [],
        volume: 80,
        media: [
          {
            sha256: audio.sha256,
            size: audio.data.length,
            url: `/media/${audio.sha256}`,
            mime: 'audio/ogg',
            durationMs: 1000,
          },
        ],
        schedule: Object.values(e),
        fallback: null,
      }
      const run1 = launch({})
      await waitFor(() => bodies('presence').some((p) => p.online === true), 20_000, 'run 1 online')
      await cp.publishAsync(
        tree.device(DEVICE, 'desired'),
        serializeMessage('desired', signed('desired', body)),
        {
          qos: 1,
        },
      )
      await waitFor(() => bodies('event').some((ev) => ev.kind === 'desired-applied'), 20_000, 'applied')
      await stop(run1)

      // Run 2: the box boots with its clock two hours ahead, NTP not synchronised.
      const outer = outerOffsetS()
      writeFileSync(fakeFile, offsetLine(outer + 7200))
      const run2 = launch({
        LD_PRELOAD: libfaketime(),
        FAKETIME: undefined,
        FAKETIME_TIMESTAMP_FILE: fakeFile,
        FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      })
      const seen = ups.length
      await waitFor(
        () => ups.slice(seen).some((u) => u.topic.endsWith('/presence') && u.body.online === true),
        20_000,
        'run 2 online',
      )
      const firstTelemetry = await waitFor(
        () => ups.slice(seen).find((u) => u.topic.endsWith('/telemetry'))?.body,
        10_000,
        'telemetry while ahead',
      )
      // The agent's wall clock really is two hours ahead, and it knows it cannot trust it.
      expect(Date.parse(firstTelemetry.at as string) - Date.now()).toBeGreaterThan(2 * H - 60_000)
      expect(firstTelemetry.clock).toMatchObject({ state: 'unsynced' })

      // An emergency signed now by the control plane, valid 10 min: expired by the box's clock, yet it plays.
      const now = Date.now()
      const alert: AlertSpec = {
        alertId: 'al-faketime',
        revision: 1,
        ackId: 'ack-faketime-1',
        title: 'lũ quét',
        level: 'emergency',
        priority: Bands.emergency,
        items: [body.media[0] as DesiredStateBody['media'][0]],
        repeat: 1,
        startsAt: new Date(now - 1000).toISOString(),
        expiresAt: new Date(now + 600_000).toISOString(),
        audible: true,
      }
      const cmd = signed('cmd', {
        commandId: 'cmd-faketime-al',
        kind: 'alert',
        recipients: { devices: [DEVICE], units: [] },
        deadline: new Date(now + 60_000).toISOString(),
        alert,
      })
      await cp.publishAsync(tree.device(DEVICE, 'cmd'), serializeMessage('cmd', cmd), { qos: 1 })
      const stages = () =>
        bodies('ack')
          .filter((a) => a.commandId === alert.ackId)
          .map((a) => a.stage)
      await waitFor(() => stages().includes('done'), 20_000, 'alert done')
      expect(stages()).toEqual(['received', 'playing', 'done'])
      await waitFor(() => plays('early').length > 0, 30_000, 'early played by the wrong clock')

      // Nothing the wrong clock merely says is past was reported missed (the old agent reported all of them).
      expect(plays().filter((p) => p.reason === 'missed')).toEqual([])
      expect(plays().map((p) => [p.scheduleId, p.status])).toEqual([
        [alert.alertId, 'played'],
        ['early', 'played'],
      ])

      // NTP synchronises: the clock steps back two hours while the agent runs.
      writeFileSync(fakeFile, offsetLine(outer))
      writeFileSync(synced, '')
      const jump = await waitFor(
        () => bodies('event').find((ev) => ev.kind === 'clock-jumped'),
        10_000,
        'clock-jumped event',
      )
      expect((jump.data as { deltaMs: number }).deltaMs).toBeLessThan(-2 * H + 60_000)
      await waitFor(() => plays('after2').length > 0, 40_000, 'after2 played')
      for (const id of ['after1', 'after2'] as const) {
        expect(plays(id).map((p) => p.status)).toEqual(['played'])
        expect(Math.abs(Date.parse(plays(id)[0]?.startedAt as string) - instantOf(e[id]))).toBeLessThan(1500)
      }
      expect(plays('early')).toHaveLength(1)
      expect(plays('later')).toEqual([])
      expect(plays().filter((p) => p.reason === 'missed')).toEqual([])
      for (const p of plays()) expect(p.durationMs as number).toBeGreaterThanOrEqual(0)
      // Uptime is monotonic through the step; the clock state is synced and names the jump.
      const samples = ups
        .slice(seen)
        .filter((u) => u.topic.endsWith('/telemetry'))
        .map((u) => u.body)
      const uptimes = samples.map((s) => s.uptimeS as number)
      expect(uptimes.every((u) => u >= 0)).toBe(true)
      expect(Math.max(...uptimes)).toBeGreaterThan(20)
      expect(samples.at(-1)?.clock).toMatchObject({ state: 'synced', jumps: 1 })
      await stop(run2)
      // The box's own play log agrees: each occurrence once.
      const db = new Database(join(dataDir, 'agent.db'), { readonly: true })
      const rows = db.prepare('SELECT schedule_id FROM plays ORDER BY seq').all() as { schedule_id: string }[]
      db.close()
      expect(rows.map((r) => r.schedule_id)).toEqual([alert.alertId, 'early', 'after1', 'after2'])
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- agent log (tail) ---\n${log.slice(-4000)}`)
    } finally {
      await cp.endAsync()
    }
  })
})
