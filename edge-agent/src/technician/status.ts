import { networkInterfaces } from 'node:os'
import { DateTime } from 'luxon'
import pino from 'pino'
import { monotonicMs } from '../clock/clock.js'
import { readHealth } from '../health/health.js'
import { OccurrenceSource } from '../schedule/occurrence-source.js'
import { diskSpace } from '../storage/disk-space.js'
import type { StatusReader, TechnicianConfig } from './ports.js'

const quiet = pino({ level: 'silent' })
/** readHealth runs vcgencmd and timedatectl: the page polls every 1.5 s, so a reading serves 10 s. */
const HEALTH_TTL_MS = 10_000
let healthCache: { at: number; value: Promise<Awaited<ReturnType<typeof readHealth>>> } | null = null

function health(): Promise<Awaited<ReturnType<typeof readHealth>>> {
  if (!healthCache || monotonicMs() - healthCache.at > HEALTH_TTL_MS) {
    healthCache = { at: monotonicMs(), value: readHealth().catch(() => ({})) }
  }
  return healthCache.value
}

/** Interfaces and addresses, read-only (the page never changes the network). */
export function network(): {
  name: string
  addresses: { address: string; family: string; cidr: string | null }[]
}[] {
  return Object.entries(networkInterfaces()).map(([name, addrs]) => ({
    name,
    addresses: (addrs ?? []).map((a) => ({ address: a.address, family: a.family, cidr: a.cidr })),
  }))
}

/** Everything the status screen shows, gathered without the province (nothing external is asked). */
export async function localStatus(s: StatusReader, config: TechnicianConfig) {
  const held = s.desired()
  const tz = held?.timezone ?? config.timezone
  const dayStart = DateTime.fromMillis(s.now()).setZone(tz).startOf('day')
  const today = new OccurrenceSource(config.timezone, quiet)
    .between(held, dayStart.toJSDate(), dayStart.plus({ days: 1 }).toJSDate())
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
    .slice(0, 200)
    .map((q) => ({ at: q.at, title: q.title, level: q.level, priority: q.priority, items: q.items.length }))
  let disk: { total: number; free: number } | null = null
  try {
    disk = await diskSpace(config.dataDir)
  } catch {}
  const h = await health()
  const names = new Map((held?.media ?? []).map((m) => [m.sha256, m]))
  const province = s.province()
  return {
    deviceId: config.deviceId,
    version: s.version(),
    province: {
      connected: province.connected,
      // Which of the configured brokers (mqtt.urls) the box is on now.
      broker: province.broker,
      lastContactAt: province.lastContactAt ? new Date(province.lastContactAt).toISOString() : null,
      desiredVersion: held?.version ?? null,
      // Desired states not newer than the one held, dropped unparsed (replays, a broker re-delivering).
      staleDesiredDropped: province.staleDesiredDropped,
      outboxPending: province.outboxPending,
    },
    // Signal, operator and registration, when the box has a modem (`modem.port`).
    modem: s.modem(),
    health: h,
    // The agent's "now" (the signed floor when the local clock is behind it), and what it knows of the clock.
    clock: {
      now: new Date(s.now()).toISOString(),
      timezone: tz,
      synced: h.clockSynced ?? null,
      ...s.clock(),
    },
    disk,
    nowPlaying: s.nowPlaying(),
    // Contract field of the page's JSON: it means the amplifier switch.
    relayOn: s.ampSwitchOn(),
    zones: s.zones(),
    today,
    media: s.media().map((m) => ({
      sha256: m.sha256,
      size: m.size,
      state: m.state,
      lastUsed: m.last_used,
      durationMs: names.get(m.sha256)?.durationMs ?? null,
    })),
  }
}
