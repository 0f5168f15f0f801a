import { useEffect, useState } from 'preact/hooks'
import { errorText } from '../api'
import { AckTable } from './ack-counts'
import { contentApi } from './content-api'
import { formatLocal } from './content-format'
import type { Live } from './content-types'
import { tLive as t } from './live.i18n'
import { MicPanel } from './live-mic'
import { type TargetKey, TargetSelect, targetsOf, useTree } from './target-select'

/** A relay fed by a console microphone session: its capability URL is not worth showing. */
const isMicSource = (url: string) => /\/live-mic\/m-[^/]+\/[0-9a-f]{32}\.mp3$/.test(url)

/** Start a live relay from a stream URL, follow the clusters' acknowledgements, stop it. */
export function LivePage() {
  const { units, clusters } = useTree()
  const [title, setTitle] = useState('')
  const [sourceUrl, setSourceUrl] = useState('')
  const [target, setTarget] = useState<TargetKey | ''>('')
  const [minutes, setMinutes] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [lives, setLives] = useState<Live[]>([])

  const reload = () =>
    contentApi
      .listLives('active')
      .then(setLives)
      .catch(() => {})
  useEffect(() => {
    void reload()
    // Counts of every active relay at once: one poll is lighter than a stream per relay on a phone.
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload()
    }, 2000)
    return () => clearInterval(timer)
  }, [])

  const start = async (e: Event) => {
    e.preventDefault()
    setError(null)
    if (!title.trim() || !sourceUrl.trim() || !target) return setError(t('missing'))
    setBusy(true)
    try {
      const durationS = minutes ? Math.round(Number(minutes) * 60) : undefined
      await contentApi.startLive({
        title: title.trim(),
        sourceUrl: sourceUrl.trim(),
        targets: targetsOf(target),
        ...(durationS ? { durationS } : {}),
      })
      setTitle('')
      setSourceUrl('')
      await reload()
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }

  const stop = async (id: string) => {
    try {
      await contentApi.stopLive(id)
      await reload()
    } catch (err) {
      setError(errorText(err))
    }
  }

  return (
    <section class="content-page live-page">
      <h1>{t('title')}</h1>
      <p class="muted">{t('intro')}</p>
      <form class="card" onSubmit={(e) => void start(e)}>
        <label class="field">
          <span>{t('liveTitle')}</span>
          <input
            value={title}
            maxLength={200}
            data-testid="live-title"
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>{t('source')}</span>
          <input
            type="url"
            inputMode="url"
            value={sourceUrl}
            placeholder="https://…"
            data-testid="live-source"
            onInput={(e) => setSourceUrl(e.currentTarget.value)}
          />
        </label>
        <div class="field">
          <label for="live-target">{t('target')}</label>
          <TargetSelect
            id="live-target"
            value={target}
            onChange={setTarget}
            units={units}
            clusters={clusters}
            labels={{ unit: t('unit'), cluster: t('cluster') }}
            testId="live-target"
          />
        </div>
        <label class="field">
          <span>{t('duration')}</span>
          <input
            type="number"
            min={1}
            max={10080}
            value={minutes}
            onInput={(e) => setMinutes(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="live-start">
          {busy ? t('starting') : t('start')}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <h2>{t('active')}</h2>
      {lives.length === 0 ? (
        <p class="muted">{t('none')}</p>
      ) : (
        lives.map((l) => (
          <div class="card" key={l.id} data-testid="live-item" data-live-id={l.id}>
            <h3>{l.title}</h3>
            <p class="muted">
              {isMicSource(l.sourceUrl) ? t('micSource') : l.sourceUrl} · {formatLocal(l.startsAt)}{' '}
              {l.endsAt ? `${t('until')} ${formatLocal(l.endsAt)}` : t('untilStopped')}
            </p>
            {l.counts && (
              <AckTable
                counts={l.counts}
                label={(stage) => t(`stage_${stage}`)}
                targetedLabel={t('targeted')}
              />
            )}
            <button
              type="button"
              class="btn btn-danger"
              data-testid="live-stop"
              onClick={() => void stop(l.id)}
            >
              {t('stop')}
            </button>
          </div>
        ))
      )}
      <h2>{t('micHeading')}</h2>
      <MicPanel />
    </section>
  )
}
