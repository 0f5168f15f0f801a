import { useState } from 'preact/hooks'
import { api, type LocalAction, type Zone } from './api.js'
import { errorText, type T } from './i18n.js'

const active = (a: LocalAction) => a.status === 'queued' || a.status === 'playing'

function ZoneCard(props: { t: T; z: Zone; actions: LocalAction[]; onChange: () => void }) {
  const { t, z } = props
  const [seconds, setSeconds] = useState(60)
  const [volume, setVolume] = useState(z.volumePercent ?? 100)
  const [error, setError] = useState<string | null>(null)
  const call = async (path: string, body: unknown) => {
    setError(null)
    try {
      await api('POST', `/api/zones/${encodeURIComponent(z.id)}/${path}`, body)
      props.onChange()
    } catch (err) {
      setError(errorText(t, err))
    }
  }
  const holding = props.actions.some((a) => a.kind === 'relay' && a.zone === z.id && active(a))
  return (
    <div class="zone" data-zone={z.id}>
      <div class="row">
        <strong>{z.label}</strong>
        <span>
          {t('relay')}:{' '}
          <span class={z.relayOn ? 'ok' : 'muted'} data-relay={z.relayOn ? 'on' : 'off'}>
            {z.relayOn ? t('on') : t('off')}
          </span>
        </span>
      </div>
      <div class="row">
        <button type="button" data-action="test" onClick={() => call('test', { seconds: 5 })}>
          {t('testTone')}
        </button>
        {holding ? (
          <button
            type="button"
            class="danger"
            data-action="relay-off"
            onClick={() => call('relay', { on: false })}
          >
            {t('relayOff')}
          </button>
        ) : (
          <button type="button" data-action="relay-on" onClick={() => call('relay', { on: true, seconds })}>
            {t('relayOn')}
          </button>
        )}
        <label class="row">
          {t('autoOff')}
          <input
            type="number"
            min={1}
            max={3600}
            style="width:5.5rem"
            data-field="relay-seconds"
            value={seconds}
            onInput={(e) => setSeconds(Number((e.target as HTMLInputElement).value) || 60)}
          />
          {t('seconds')}
        </label>
      </div>
      {z.volumePercent !== null && (
        <div class="row">
          <label style="flex:1">
            {t('volume')} {volume}%
            <input
              type="range"
              min={0}
              max={100}
              value={volume}
              data-field="volume"
              onInput={(e) => setVolume(Number((e.target as HTMLInputElement).value))}
            />
          </label>
          <button
            type="button"
            class="secondary"
            data-action="volume"
            onClick={() => call('volume', { percent: volume })}
          >
            {t('setVolume')}
          </button>
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}

export function Zones(props: { t: T; zones: Zone[]; actions: LocalAction[]; onChange: () => void }) {
  return (
    <section id="zones">
      <h2>{props.t('zones')}</h2>
      {props.zones.map((z) => (
        <ZoneCard key={z.id} t={props.t} z={z} actions={props.actions} onChange={props.onChange} />
      ))}
    </section>
  )
}
