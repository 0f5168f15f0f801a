/** A failed call: the server's stable code (translated by the page), or `network_error`. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code)
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response
  try {
    const init: RequestInit = { method, credentials: 'same-origin' }
    if (body instanceof FormData) init.body = body
    else if (body !== undefined) {
      init.body = JSON.stringify(body)
      init.headers = { 'content-type': 'application/json' }
    }
    res = await fetch(path, init)
  } catch {
    throw new ApiError('network_error', 0)
  }
  const text = await res.text()
  let data: unknown = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {}
  if (!res.ok) {
    const d = (data ?? {}) as { code?: string } & Record<string, unknown>
    throw new ApiError(d.code ?? `HTTP ${res.status}`, res.status, d)
  }
  return data as T
}

export interface Zone {
  id: string
  label: string
  relayOn: boolean
  volumePercent: number | null
}

export interface LocalAction {
  id: string
  kind: 'tone' | 'relay' | 'announcement'
  zone: string
  by: string
  title: string
  requestedAt: string
  startedAt: string | null
  endedAt: string | null
  status: string
  reason?: string
  seconds: number
}

export interface Status {
  deviceId: string
  version: string
  province: {
    connected: boolean
    /** The broker connected to (mqtt://host:port), null while offline. */
    broker?: string | null
    lastContactAt: string | null
    desiredVersion: number | null
    outboxPending: number
  }
  modem: {
    signalDbm: number | null
    registration: string | null
    operator?: string
    accessTech?: string | null
  } | null
  health: { cpuTempC?: number; throttled?: { underVoltageNow: boolean; throttledNow: boolean } }
  clock: {
    now: string
    timezone: string
    synced: boolean | null
    state: 'synced' | 'unsynced' | 'unknown' | 'trusted' | 'behind-signed-time'
    offsetFromSignedMs: number | null
    lastJumpAt: string | null
    lastJumpMs: number | null
  }
  disk: { total: number; free: number } | null
  nowPlaying: { title: string; startedAt: string } | null
  relayOn: boolean
  zones: Zone[]
  today: { at: string; title: string; level: string; priority: number; items: number }[]
  media: { sha256: string; size: number; state: string; lastUsed: string | null; durationMs: number | null }[]
}

export interface Activity {
  actions: LocalAction[]
  plays: {
    title: string
    status: string
    reason: string | null
    startedAt: string | null
    priority: number
  }[]
  relay: { at: string; on: number }[]
  logs: { at: string; level: string; msg: string; c?: string }[]
}

export interface NetworkInfo {
  interfaces: { name: string; addresses: { address: string; family: string; cidr: string | null }[] }[]
}
