import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { loadavg, networkInterfaces } from 'node:os'
import { promisify } from 'node:util'
import type { HealthTelemetry } from '@loa/shared'

const run = promisify(execFile)

/** Where each value is read; tests point them at fixtures. A null command is not tried. */
export interface HealthSources {
  thermalFile: string
  meminfoFile: string
  /** Exists while systemd-timesyncd considers the clock synchronised. */
  timesyncFile: string
  timedatectl: string | null
  vcgencmd: string | null
}

export const DEFAULT_HEALTH_SOURCES: HealthSources = {
  thermalFile: '/sys/class/thermal/thermal_zone0/temp',
  meminfoFile: '/proc/meminfo',
  timesyncFile: '/run/systemd/timesync/synchronized',
  timedatectl: 'timedatectl',
  vcgencmd: 'vcgencmd',
}

/** `throttled=0x50005` → the bits that matter (Raspberry Pi firmware documentation of get_throttled). */
export function parseThrottled(text: string): HealthTelemetry['throttled'] | undefined {
  const m = /throttled=(0x[0-9a-fA-F]+)/.exec(text)
  if (!m) return undefined
  const v = Number.parseInt(m[1] as string, 16)
  const bit = (n: number) => (v & (1 << n)) !== 0
  return {
    raw: m[1] as string,
    underVoltageNow: bit(0),
    throttledNow: bit(2),
    underVoltageSinceBoot: bit(16),
    throttledSinceBoot: bit(18),
  }
}

const quiet = async <T>(f: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await f()
  } catch {
    return undefined
  }
}

async function clockSynced(s: HealthSources): Promise<boolean | undefined> {
  if (existsSync(s.timesyncFile)) return true
  if (!s.timedatectl) return undefined
  const tdc = s.timedatectl
  const out = await quiet(() => run(tdc, ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 3000 }))
  const v = out?.stdout.trim()
  return v === 'yes' ? true : v === 'no' ? false : undefined
}

/** One health sample. Anything unreadable on this box (no thermal zone, no vcgencmd, no systemd) is left out. */
export async function readHealth(s: HealthSources = DEFAULT_HEALTH_SOURCES): Promise<HealthTelemetry> {
  const h: HealthTelemetry = {}
  const temp = Number((await quiet(() => readFile(s.thermalFile, 'utf8')))?.trim())
  if (Number.isFinite(temp) && temp !== 0) h.cpuTempC = Math.round(temp / 100) / 10
  if (s.vcgencmd) {
    const vc = s.vcgencmd
    const out = await quiet(() => run(vc, ['get_throttled'], { timeout: 3000 }))
    const t = out ? parseThrottled(out.stdout) : undefined
    if (t) h.throttled = t
  }
  const [, l5, l15] = loadavg()
  h.load5 = l5 ?? 0
  h.load15 = l15 ?? 0
  const mem = /MemAvailable:\s+(\d+) kB/.exec((await quiet(() => readFile(s.meminfoFile, 'utf8'))) ?? '')
  if (mem) h.memAvailableBytes = Number(mem[1]) * 1024
  const synced = await clockSynced(s)
  if (synced !== undefined) h.clockSynced = synced
  const net: NonNullable<HealthTelemetry['net']> = []
  for (const [iface, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (!a.internal) net.push({ iface, address: a.address, family: a.family === 'IPv4' ? 'ipv4' : 'ipv6' })
    }
  }
  if (net.length > 0) h.net = net.slice(0, 16)
  return h
}
