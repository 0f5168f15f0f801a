#!/usr/bin/env node
/**
 * `npm start`: a whole province on one machine. Runs the control plane (with its embedded MQTT broker) and five
 * simulated loudspeaker clusters in two communes, each a real agent process with its own SQLite file and MQTT
 * connection; seeds a sample province and a locally generated bulletin that plays every minute; prints plays as
 * the control plane receives them.
 */
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newApiTokenString } from '@loa/control-plane'
import { hashPassword } from '@loa/shared/password-hash'
import { makeBulletinAudio } from './demo-audio.js'
import { pickPort, spawnLogged, waitForHttp } from './demo-processes.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const DEMO_DIR = resolve(process.env.LOA_DEMO_DIR ?? join(ROOT, '.loa-demo'))

interface DemoCluster {
  id: string
  unitId: string
  name: string
  lat: number
  lon: number
}

const CLUSTERS: DemoCluster[] = [
  { id: 'an-binh-01', unitId: 'xa-an-binh', name: 'Cụm loa chợ An Bình', lat: 16.0544, lon: 108.2022 },
  { id: 'an-binh-02', unitId: 'xa-an-binh', name: 'Cụm loa trường học', lat: 16.0571, lon: 108.2049 },
  { id: 'an-binh-thon-dong', unitId: 'thon-dong', name: 'Cụm loa thôn Đông', lat: 16.0611, lon: 108.2101 },
  { id: 'hoa-phu-01', unitId: 'xa-hoa-phu', name: 'Cụm loa UBND xã Hòa Phú', lat: 15.9821, lon: 108.1433 },
  { id: 'hoa-phu-02', unitId: 'xa-hoa-phu', name: 'Cụm loa bến đò', lat: 15.9793, lon: 108.1502 },
]

const children: ChildProcess[] = []

/** The demo seeds through the API with a province-admin token it gives the control plane (LOA_BOOTSTRAP_TOKEN). */
const TOKEN = newApiTokenString('demo')
const AUTH = { authorization: `Bearer ${TOKEN}` }
const ADMIN_USER = 'admin'
const ADMIN_PASSWORD = process.env.LOA_ADMIN_PASSWORD || randomBytes(12).toString('base64url')

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? AUTH : { 'content-type': 'application/json', ...AUTH },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`)
  return (text ? JSON.parse(text) : undefined) as T
}

/** The province, its clusters, the bulletin and the administrator; returns the bulletin's id. */
async function seed(base: string): Promise<string> {
  await api(base, 'POST', '/api/units', {
    id: 'tinh-demo',
    name: 'Tỉnh Demo',
    kind: 'province',
    parentId: null,
  })
  await api(base, 'POST', '/api/units', {
    id: 'xa-an-binh',
    name: 'Xã An Bình',
    kind: 'commune',
    parentId: 'tinh-demo',
  })
  await api(base, 'POST', '/api/units', {
    id: 'thon-dong',
    name: 'Thôn Đông',
    kind: 'village',
    parentId: 'xa-an-binh',
  })
  await api(base, 'POST', '/api/units', {
    id: 'xa-hoa-phu',
    name: 'Xã Hòa Phú',
    kind: 'commune',
    parentId: 'tinh-demo',
  })
  for (const c of CLUSTERS) {
    await api(base, 'POST', '/api/clusters', {
      id: c.id,
      name: c.name,
      unitId: c.unitId,
      lat: c.lat,
      lon: c.lon,
      tags: c.unitId === 'xa-hoa-phu' ? ['ven-song'] : [],
    })
  }
  const wav = join(DEMO_DIR, 'ban-tin.wav')
  const how = await makeBulletinAudio(
    wav,
    'Xin chào bà con. Đây là bản tin thử nghiệm của đài truyền thanh xã. Chúc bà con một ngày tốt lành.',
  )
  const form = new FormData()
  form.append('file', new Blob([readFileSync(wav)]), 'ban-tin-thu-nghiem.wav')
  const uploaded = await fetch(`${base}/api/media`, { method: 'POST', body: form, headers: AUTH })
  if (!uploaded.ok) throw new Error(`upload failed: ${uploaded.status} ${await uploaded.text()}`)
  const media = (await uploaded.json()) as { sha256: string; durationMs: number }
  const bulletin = await api<{ id: string }>(base, 'POST', '/api/bulletins', {
    title: 'Bản tin thử nghiệm',
    level: 'normal',
    mediaSha256: media.sha256,
  })
  console.log(`  bản tin / bulletin: ${(media.durationMs / 1000).toFixed(1)} s, made with ${how}`)
  await api(base, 'POST', '/api/users', {
    username: ADMIN_USER,
    displayName: 'Quản trị tỉnh',
    role: 'province-admin',
    scopeUnitId: 'tinh-demo',
    password: ADMIN_PASSWORD,
  })
  return bulletin.id
}

/** Resolves once every cluster is online and has applied its newest desired state (its media is downloaded). */
async function clustersInSync(base: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const { clusters } = await api<{
      clusters: { online: boolean; appliedVersion: number | null; desiredVersion: number | null }[]
    }>(base, 'GET', '/api/clusters').catch(() => ({ clusters: [] }))
    if (
      clusters.length === CLUSTERS.length &&
      clusters.every((c) => c.online && c.desiredVersion !== null && c.appliedVersion === c.desiredVersion)
    ) {
      return true
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  return false
}

/**
 * The schedules, made once the clusters run: a welcome bulletin in 20 s (which also brings the audio to every box),
 * then, once the boxes have it, the every-minute one, so that no occurrence comes before its audio could.
 */
async function schedule(base: string, bulletinId: string): Promise<void> {
  await clustersInSync(base, 60_000)
  await api(base, 'POST', '/api/schedules', {
    title: 'Bản tin chào mừng',
    bulletinId,
    recurrence: { kind: 'once', at: new Date(Math.ceil((Date.now() + 20_000) / 1000) * 1000).toISOString() },
    targets: { units: ['tinh-demo'] },
  })
  await clustersInSync(base, 60_000)
  // Every minute, all day, in both communes: today from the next whole minute (a schedule whose current minute
  // has begun would be caught up late by the agents, as a desired state arriving late is), then every day.
  const local = (t: number) => {
    const parts = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Asia/Ho_Chi_Minh',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(new Date(t))
    const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00'
    return { date: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}:${get('minute')}` }
  }
  const first = local(Math.ceil((Date.now() + 10_000) / 60_000) * 60_000)
  const tomorrow = local(Date.parse(`${first.date}T12:00:00+07:00`) + 86_400_000).date
  const everyMinute = {
    kind: 'interval',
    daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
    everyMinutes: 1,
    until: '23:59:59',
  }
  const days = [
    { ...everyMinute, from: first.time, startDate: first.date, endDate: first.date },
    { ...everyMinute, from: '00:00', startDate: tomorrow },
  ]
  for (const recurrence of days) {
    await api(base, 'POST', '/api/schedules', {
      title: 'Bản tin mỗi phút',
      bulletinId,
      recurrence,
      targets: { units: ['tinh-demo'] },
    })
  }
}

interface PlayRow {
  id: string
  clusterId: string
  title: string
  status: string
  startedAt: string | null
  occurrence: string | null
  durationMs: number
  reason?: string | null
}

function clock(iso: string | null): string {
  if (!iso) return '--:--:--'
  return new Date(iso).toLocaleTimeString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', hour12: false })
}

async function followPlays(base: string): Promise<void> {
  const seen = new Set<string>()
  for (;;) {
    try {
      const { plays } = await api<{ plays: PlayRow[] }>(base, 'GET', '/api/plays?limit=200')
      for (const p of plays.slice().reverse()) {
        if (seen.has(p.id)) continue
        seen.add(p.id)
        const late =
          p.startedAt && p.occurrence
            ? ` (lệch/offset ${Date.parse(p.startedAt) - Date.parse(p.occurrence)} ms)`
            : ''
        const why = p.reason ? ` (${p.reason})` : ''
        console.log(
          `  ▶ ${clock(p.startedAt ?? p.occurrence)}  ${p.clusterId.padEnd(18)} ${p.status.padEnd(8)} ${p.title} — ${(p.durationMs / 1000).toFixed(1)} s${late}${why}`,
        )
      }
    } catch {
      // control plane restarting or busy: try again
    }
    await new Promise((r) => setTimeout(r, 2000))
  }
}

function shutdown(): void {
  console.log('\nĐang dừng / stopping…')
  for (const c of children) c.kill('SIGTERM')
  setTimeout(() => process.exit(0), 3000).unref()
}

async function main(): Promise<void> {
  rmSync(DEMO_DIR, { recursive: true, force: true })
  mkdirSync(join(DEMO_DIR, 'logs'), { recursive: true })
  const httpPort = await pickPort(Number(process.env.LOA_DEMO_HTTP_PORT ?? 8080))
  const mqttPort = await pickPort(Number(process.env.LOA_DEMO_MQTT_PORT ?? 1883))
  const base = `http://127.0.0.1:${httpPort}`
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)

  console.log('Loa — bản demo / demo')
  const cp = spawnLogged(
    join(ROOT, 'control-plane/dist/main.js'),
    {
      LOA_DATA_DIR: join(DEMO_DIR, 'control-plane'),
      LOA_HTTP_HOST: '127.0.0.1',
      LOA_HTTP_PORT: String(httpPort),
      LOA_MQTT_HOST: '127.0.0.1',
      LOA_MQTT_PORT: String(mqttPort),
      LOA_BOOTSTRAP_TOKEN: TOKEN,
    },
    join(DEMO_DIR, 'logs', 'control-plane.log'),
  )
  children.push(cp)
  cp.on('exit', (code) => {
    console.error(`control plane exited (${code}); see ${join(DEMO_DIR, 'logs', 'control-plane.log')}`)
    shutdown()
  })
  await waitForHttp(`${base}/healthz`, 30_000)
  const bulletinId = await seed(base)

  // Provisioning, as `loa` does it for a real box: the control plane's public key to pin, and the device's own
  // broker credentials (issued again on every demo start: the old secret stops working).
  const keys = await api<{ current: string; keys: { keyId: string; publicKey: string }[] }>(
    base,
    'GET',
    '/api/signing-keys',
  )
  const pinned = keys.keys.find((k) => k.keyId === keys.current)
  if (!pinned) throw new Error('the control plane has no current signing key')
  // The first cluster serves the technician's page (password `demo`); the others keep theirs off.
  const pagePort = await pickPort(Number(process.env.LOA_DEMO_PAGE_PORT ?? 8090))
  const pageHash = await hashPassword('demo')
  for (const c of CLUSTERS) {
    const dataDir = join(DEMO_DIR, 'clusters', c.id)
    mkdirSync(dataDir, { recursive: true })
    const creds = await api<{ username: string; password: string }>(
      base,
      'POST',
      `/api/clusters/${c.id}/credentials`,
    )
    children.push(
      spawnLogged(
        join(ROOT, 'edge-agent/dist/main.js'),
        {
          LOA_DEVICE_ID: c.id,
          LOA_MQTT_URL: mqttUrl,
          LOA_MQTT_USERNAME: creds.username,
          LOA_MQTT_PASSWORD: creds.password,
          LOA_CONTROL_PLANE_KEY_ID: pinned.keyId,
          LOA_CONTROL_PLANE_PUBLIC_KEY: pinned.publicKey,
          LOA_CONTROL_PLANE_URL: base,
          LOA_DATA_DIR: dataDir,
          LOA_OUTPUT: c === CLUSTERS[0] && process.env.LOA_DEMO_OUTPUT ? process.env.LOA_DEMO_OUTPUT : 'null',
          LOA_TELEMETRY_INTERVAL_S: '15',
          ...(c === CLUSTERS[0]
            ? {
                LOA_LOCAL_PAGE_HOST: '127.0.0.1',
                LOA_LOCAL_PAGE_PORT: String(pagePort),
                LOA_TECHNICIAN_PASSWORD_HASH: pageHash,
              }
            : { LOA_LOCAL_PAGE_HOST: 'off' }),
        },
        join(DEMO_DIR, 'logs', `${c.id}.log`),
      ),
    )
  }

  console.log(`
  API:          ${base}/api/clusters   ${base}/api/plays
  OpenAPI:      ${base}/openapi.json
  Metrics:      ${base}/metrics
  MQTT broker:  ${mqttUrl}
  Đăng nhập / log in:  ${ADMIN_USER} / ${ADMIN_PASSWORD}${process.env.LOA_ADMIN_PASSWORD ? ' (LOA_ADMIN_PASSWORD)' : ''}
  API token (quản trị / admin): Authorization: Bearer ${TOKEN}
  Trang kỹ thuật / technician page (${CLUSTERS[0]?.id}): http://127.0.0.1:${pagePort}/  (mật khẩu / password: demo)
  Nhật ký / logs: ${join(DEMO_DIR, 'logs')}

  ${CLUSTERS.length} cụm loa ở 2 xã đang chạy; bản tin phát mỗi phút. Ctrl-C để dừng.
  ${CLUSTERS.length} clusters in 2 communes are running; the bulletin plays every minute. Ctrl-C to stop.

  Lượt phát / plays as the control plane receives them:`)
  await Promise.all([schedule(base, bulletinId), followPlays(base)])
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`)
  for (const c of children) c.kill('SIGTERM')
  process.exit(1)
})
