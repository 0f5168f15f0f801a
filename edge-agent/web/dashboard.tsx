import { useCallback, useEffect, useState } from 'preact/hooks'
import { Activity } from './activity.js'
import { Announcement } from './announcement.js'
import { type Activity as ActivityData, ApiError, api, type Status } from './api.js'
import { clockFormat, errorText, type T, timeText } from './i18n.js'
import { Zones } from './zones.js'

const POLL_MS = 1500

const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`

function StatusView(props: { t: T; s: Status }) {
  const { t, s } = props
  return (
    <section id="status">
      <h2>{t('status')}</h2>
      <div class="grid">
        <span>{t('province')}</span>
        <span
          id="province"
          class={s.province.connected ? 'ok' : 'bad'}
          data-connected={String(s.province.connected)}
        >
          {s.province.connected ? t('connected') : t('disconnected')}
          {s.province.connected && s.province.broker ? ` · ${s.province.broker}` : ''}
        </span>
        <span>{t('lastContact')}</span>
        <span>{timeText(s.province.lastContactAt)}</span>
        <span>{t('signal')}</span>
        <span>
          {s.modem
            ? `${s.modem.signalDbm ?? '?'} dBm · ${s.modem.operator ?? ''} ${s.modem.accessTech ?? ''} · ${s.modem.registration ?? t('unknown')}`
            : t('noModem')}
        </span>
        <span>{t('clock')}</span>
        <span id="clock" data-state={s.clock.state}>
          {timeText(s.clock.now, true)} ({s.clock.timezone}) ·{' '}
          <span class={s.clock.state === 'unsynced' || s.clock.state === 'behind-signed-time' ? 'bad' : 'ok'}>
            {t(`clock_${s.clock.state}`)}
          </span>
          {s.clock.offsetFromSignedMs !== null && s.clock.offsetFromSignedMs < 0
            ? ` · ${t('clockOffset', { s: Math.round(s.clock.offsetFromSignedMs / 1000) })}`
            : ''}
          {s.clock.lastJumpAt && s.clock.lastJumpMs !== null
            ? ` · ${t('clockJump', { d: Math.round(s.clock.lastJumpMs / 1000), at: timeText(s.clock.lastJumpAt, true) })}`
            : ''}
        </span>
        <span>{t('disk')}</span>
        <span>{s.disk ? `${gb(s.disk.free)} / ${gb(s.disk.total)}` : t('unknown')}</span>
        {s.health.cpuTempC !== undefined && (
          <>
            <span>{t('cpuTemp')}</span>
            <span class={s.health.throttled?.underVoltageNow ? 'bad' : ''}>
              {s.health.cpuTempC} °C{s.health.throttled?.underVoltageNow ? ` · ${t('underVoltage')}` : ''}
            </span>
          </>
        )}
        <span>{t('version')}</span>
        <span>{s.version}</span>
        <span>{t('nowPlaying')}</span>
        <span id="now-playing">{s.nowPlaying ? s.nowPlaying.title : t('nothing')}</span>
      </div>
      <h2>{t('today')}</h2>
      <ul class="list">
        {s.today.length === 0 && <li class="muted">{t('nothing')}</li>}
        {s.today.map((o) => (
          <li key={`${o.at}-${o.title}`}>
            {timeText(o.at)} · {o.title} <span class="muted">({o.level})</span>
          </li>
        ))}
      </ul>
      <h2>{t('media')}</h2>
      <ul class="list">
        {s.media.length === 0 && <li class="muted">{t('nothing')}</li>}
        {s.media.map((m) => (
          <li key={m.sha256}>
            {m.sha256.slice(0, 12)} · {(m.size / 1e6).toFixed(1)} MB · {m.state}
          </li>
        ))}
      </ul>
    </section>
  )
}

/** Everything after login: polls status and activity, so it keeps working with or without the province. */
export function Dashboard(props: { t: T; onLoggedOut: () => void }) {
  const { t } = props
  const [status, setStatus] = useState<Status | null>(null)
  const [activity, setActivity] = useState<ActivityData | null>(null)
  const [error, setError] = useState<string | null>(null)
  const load = useCallback(async () => {
    try {
      const [s, a] = await Promise.all([
        api<Status>('GET', '/api/status'),
        api<ActivityData>('GET', '/api/activity'),
      ])
      clockFormat.timeZone = s.clock.timezone
      setStatus(s)
      setActivity(a)
      setError(null)
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) props.onLoggedOut()
      else setError(errorText(t, err))
    }
  }, [t])
  useEffect(() => {
    void load()
    const timer = setInterval(() => void load(), POLL_MS)
    return () => clearInterval(timer)
  }, [load])
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {status && <Zones t={t} zones={status.zones} actions={activity?.actions ?? []} onChange={load} />}
      <Announcement t={t} actions={activity?.actions ?? []} onChange={load} />
      {status && <StatusView t={t} s={status} />}
      {activity && <Activity t={t} a={activity} />}
    </>
  )
}
