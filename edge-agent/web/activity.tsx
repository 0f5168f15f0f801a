import { useEffect, useState } from 'preact/hooks'
import { type Activity as ActivityData, api, type NetworkInfo } from './api.js'
import { type T, timeText } from './i18n.js'

export function Activity(props: { t: T; a: ActivityData }) {
  const { t, a } = props
  const [net, setNet] = useState<NetworkInfo | null>(null)
  useEffect(() => {
    api<NetworkInfo>('GET', '/api/network')
      .then(setNet)
      .catch(() => {})
  }, [])
  return (
    <>
      <section id="activity">
        <h2>{t('activity')}</h2>
        <ul class="list" id="actions">
          {a.actions.map((x) => (
            <li key={x.id} data-action-id={x.id} data-kind={x.kind} data-by={x.by} data-status={x.status}>
              {timeText(x.requestedAt)} · {t(`k_${x.kind}`)} · {x.zone === '*' ? '' : x.zone} · {x.by} ·{' '}
              <strong>{t(`s_${x.status}`)}</strong>
              {x.reason ? ` — ${x.reason}` : ''}
            </li>
          ))}
        </ul>
        <h2>{t('relay')}</h2>
        <ul class="list" id="relay-log">
          {a.relay.slice(0, 10).map((r) => (
            <li key={r.at} data-on={String(r.on)}>
              {timeText(r.at)} · {r.on ? t('on') : t('off')}
            </li>
          ))}
        </ul>
        <h2>{t('plays')}</h2>
        <ul class="list">
          {a.plays.slice(0, 15).map((p, i) => (
            <li key={`${p.startedAt}-${i}`}>
              {timeText(p.startedAt)} · {p.title} · {p.status}
              {p.reason ? ` — ${p.reason}` : ''}
            </li>
          ))}
        </ul>
        <h2>{t('logs')}</h2>
        <ul class="list" id="logs">
          {a.logs.slice(0, 40).map((l, i) => (
            <li key={`${l.at}-${i}`} class={l.level === 'error' || l.level === 'warn' ? 'bad' : ''}>
              {timeText(l.at)} {l.level} {l.c ? `[${l.c}]` : ''} {l.msg}
            </li>
          ))}
        </ul>
      </section>
      <section id="network">
        <h2>{t('networkSettings')}</h2>
        <ul class="list">
          {net?.interfaces.map((n) => (
            <li key={n.name}>
              <strong>{n.name}</strong>: {n.addresses.map((x) => x.cidr ?? x.address).join(', ')}
            </li>
          ))}
        </ul>
      </section>
    </>
  )
}
