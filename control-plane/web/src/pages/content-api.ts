import { api, qs, upload } from '../api'
import type {
  AckCounts,
  Bulletin,
  BulletinLevel,
  CalendarView,
  Cluster,
  Delivery,
  Live,
  Media,
  Play,
  Programme,
  Recurrence,
  Schedule,
  Targets,
  Unit,
  Voice,
} from './content-types'

/** A request to the control plane (the shell's wrapper: session cookie, 401 → login, ApiError). */
const request = <T>(method: string, path: string, body?: unknown): Promise<T> => api<T>(method, path, body)

export const contentApi = {
  /** Multipart upload with progress (0–1 while bytes go up; the server then transcodes). */
  uploadMedia: (file: File, onProgress: (fraction: number) => void) => {
    const form = new FormData()
    form.append('file', file, file.name)
    return upload<Media>('/api/media', form, onProgress)
  },
  listMedia: async () => (await request<{ media: Media[] }>('GET', '/api/media')).media,
  listBulletins: async () => (await request<{ bulletins: Bulletin[] }>('GET', '/api/bulletins')).bulletins,
  createBulletin: (b: { title: string; level: BulletinLevel; mediaSha256: string; unitId?: string }) =>
    request<Bulletin>('POST', '/api/bulletins', b),
  approveBulletin: (id: string) =>
    request<Bulletin>('POST', `/api/bulletins/${encodeURIComponent(id)}/approve`),
  sendBulletin: (id: string, body: { toUnitIds: string[]; note?: string }) =>
    request<{ deliveries: unknown[]; alertId: string | null }>(
      'POST',
      `/api/bulletins/${encodeURIComponent(id)}/send`,
      body,
    ),
  inbox: async (unitId?: string) =>
    (await request<{ deliveries: Delivery[] }>('GET', `/api/inbox${qs({ unitId })}`)).deliveries,
  accept: (id: string, at?: string) =>
    request<Delivery>('POST', `/api/inbox/${encodeURIComponent(id)}/accept`, at ? { at } : {}),
  decline: (id: string, reason: string) =>
    request<Delivery>('POST', `/api/inbox/${encodeURIComponent(id)}/decline`, { reason }),
  programmes: async (unitId: string) =>
    (await request<{ programmes: Programme[] }>('GET', `/api/programmes${qs({ unitId })}`)).programmes,
  reorder: (id: string, bulletinIds: string[]) =>
    request<Programme>('PUT', `/api/programmes/${encodeURIComponent(id)}/order`, { bulletinIds }),
  calendar: (q: { unitId?: string; clusterId?: string; from: string; to: string }) =>
    request<CalendarView>('GET', `/api/calendar${qs(q)}`),
  moveOccurrence: (scheduleId: string, body: { occurrence: string; to: string; force?: boolean }) =>
    request<unknown>('POST', `/api/schedules/${encodeURIComponent(scheduleId)}/move`, body),
  cancelSchedule: (scheduleId: string, occurrence?: string) =>
    request<unknown>(
      'POST',
      `/api/schedules/${encodeURIComponent(scheduleId)}/cancel`,
      occurrence ? { occurrence } : {},
    ),
  deliveries: async (bulletinId: string) =>
    (
      await request<{ deliveries: Delivery[] }>(
        'GET',
        `/api/bulletins/${encodeURIComponent(bulletinId)}/deliveries`,
      )
    ).deliveries,
  listUnits: async () => (await request<{ units: Unit[] }>('GET', '/api/units')).units,
  listClusters: async (unitId?: string) =>
    (
      await request<{ clusters: Cluster[] }>(
        'GET',
        `/api/clusters${unitId ? `?unitId=${encodeURIComponent(unitId)}` : ''}`,
      )
    ).clusters,
  listSchedules: async () => (await request<{ schedules: Schedule[] }>('GET', '/api/schedules')).schedules,
  createSchedule: (s: { bulletinId: string; recurrence: Recurrence; targets: Targets; title?: string }) =>
    request<Schedule>('POST', '/api/schedules', s),
  deleteSchedule: (id: string) => request<void>('DELETE', `/api/schedules/${encodeURIComponent(id)}`),
  listPlays: async (q: { scheduleId?: string; since?: string }) => {
    const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined) as [string, string][])
    return (await request<{ plays: Play[] }>('GET', `/api/plays?${qs}`)).plays
  },
  raiseAlert: (a: { title: string; bulletinId: string; targets: Targets; repeat?: number }) =>
    request<{ id: string; targetCount: number }>('POST', '/api/alerts', a),
  listVoices: () => request<{ voices: Voice[]; defaultVoice: string }>('GET', '/api/tts/voices'),
  normalizeText: async (text: string, voice: string) =>
    (await request<{ normalizedText: string }>('POST', '/api/tts/normalize', { text, voice })).normalizedText,
  /** The spoken audio as the engine made it (before transcoding), base64 in JSON. */
  previewSpeech: (text: string, voice: string) =>
    request<{ voice: string; normalizedText: string; mime: string; audioBase64: string }>(
      'POST',
      '/api/tts/preview?format=json',
      { text, voice },
    ),
  /** Speaks the text, stores the audio and makes a bulletin of it (a draft where the unit requires approval). */
  speakBulletin: (b: { text: string; voice: string; title: string; level: BulletinLevel; unitId?: string }) =>
    request<{ bulletin: Bulletin; media: Media; normalizedText: string }>('POST', '/api/tts/bulletins', b),
  listLives: async (state?: 'active' | 'stopped' | 'ended') =>
    (await request<{ lives: Live[] }>('GET', `/api/lives${state ? `?state=${state}` : ''}`)).lives,
  startLive: (l: { title: string; sourceUrl: string; targets: Targets; durationS?: number }) =>
    request<Live>('POST', '/api/lives', l),
  stopLive: (id: string) => request<Live>('POST', `/api/lives/${encodeURIComponent(id)}/stop`),
  listAlerts: async (state?: 'active' | 'cancelled' | 'expired') =>
    (
      await request<{ alerts: { id: string; title: string; level: BulletinLevel; counts: AckCounts }[] }>(
        'GET',
        `/api/alerts${state ? `?state=${state}` : ''}`,
      )
    ).alerts,
  cancelAlert: (id: string) =>
    request<{ id: string; state: string }>('POST', `/api/alerts/${encodeURIComponent(id)}/cancel`),
  alertView: (id: string) =>
    request<{ alert: { state: string }; counts: AckCounts }>('GET', `/api/alerts/${encodeURIComponent(id)}`),
}
