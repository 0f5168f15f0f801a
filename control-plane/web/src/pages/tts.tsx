import { useEffect, useState } from 'preact/hooks'
import { errorText } from '../api'
import { contentApi } from './content-api'
import { formatDuration } from './content-format'
import type { Bulletin, BulletinLevel, Media, Voice } from './content-types'
import { tLevel } from './levels.i18n'
import { ScheduleForm } from './schedule-form'
import { tTts as t } from './tts.i18n'

const MAX_TEXT = 4000

/** Type Vietnamese text, pick a regional voice, hear it, save it as a bulletin and schedule it. */
export function TtsPage() {
  const [voices, setVoices] = useState<Voice[]>([])
  const [text, setText] = useState('')
  const [voice, setVoice] = useState('')
  const [reading, setReading] = useState<string | null>(null)
  const [media, setMedia] = useState<Media | null>(null)
  /** The text and voice the preview was made from: saving a stale preview would broadcast the wrong words. */
  const [madeFrom, setMadeFrom] = useState('')
  const [busy, setBusy] = useState(false)
  const [title, setTitle] = useState('')
  const [level, setLevel] = useState<BulletinLevel>('normal')
  const [saved, setSaved] = useState<Bulletin | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    void contentApi
      .listVoices()
      .then((v) => {
        setVoices(v)
        setVoice((cur) => cur || v[0]?.id || '')
      })
      .catch((e: Error) => setError(`${t('error')}: ${e.message}`))
  }, [])

  const fail = (e: unknown) => setError(`${t('error')}: ${errorText(e)}`)

  const showReading = async () => {
    if (!text.trim()) return setError(t('needText'))
    setError(null)
    try {
      setReading(await contentApi.normalizeText(text))
    } catch (e) {
      fail(e)
    }
  }

  const preview = async () => {
    if (!text.trim()) return setError(t('needText'))
    setError(null)
    setBusy(true)
    try {
      const m = await contentApi.synthesize(text, voice)
      setMedia(m)
      setMadeFrom(`${voice}\n${text}`)
      setSaved(null)
      if (!title) setTitle(text.trim().split(/\s+/).slice(0, 8).join(' ').slice(0, 200))
    } catch (e) {
      fail(e)
    } finally {
      setBusy(false)
    }
  }

  const save = async () => {
    if (!media || madeFrom !== `${voice}\n${text}`) return setError(t('needPreview'))
    setError(null)
    try {
      setSaved(
        await contentApi.createBulletin({
          title: title.trim(),
          level,
          mediaSha256: media.sha256,
          text,
          voice,
        }),
      )
    } catch (e) {
      fail(e)
    }
  }

  const regionName = (v: Voice) =>
    v.region === 'north' || v.region === 'central' || v.region === 'south'
      ? t(`region_${v.region}`)
      : v.region
  return (
    <section class="content-page tts-page">
      <h1>{t('title')}</h1>
      <p class="muted">{t('intro')}</p>
      <div class="card">
        <label class="field">
          <span>{t('text')}</span>
          <textarea
            rows={6}
            maxLength={MAX_TEXT}
            value={text}
            placeholder={t('placeholder')}
            lang="vi"
            data-testid="tts-text"
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <small class="muted">
            {text.length}/{MAX_TEXT} {t('chars')}
          </small>
        </label>
        <fieldset class="field voices">
          <legend>{t('voice')}</legend>
          {voices.map((v) => (
            <label key={v.id}>
              <input
                type="radio"
                name="voice"
                value={v.id}
                checked={voice === v.id}
                data-testid={`tts-voice-${v.region}`}
                onChange={() => setVoice(v.id)}
              />{' '}
              {regionName(v)} <span class="muted">({v.name})</span>
            </label>
          ))}
        </fieldset>
        <div class="row">
          <button class="btn" type="button" onClick={() => void showReading()} data-testid="tts-normalize">
            {t('showReading')}
          </button>
          <button
            type="button"
            class="btn btn-primary"
            disabled={busy}
            onClick={() => void preview()}
            data-testid="tts-preview"
          >
            {busy ? t('synthesizing') : t('preview')}
          </button>
        </div>
        {reading !== null && (
          <p class="reading">
            {t('reading')}: <q data-testid="tts-reading">{reading}</q>
          </p>
        )}
        {media && (
          <div class="preview">
            {/* biome-ignore lint/a11y/useMediaCaption: the text it was spoken from is on the page, above it */}
            <audio controls src={`/media/${media.sha256}`} data-testid="tts-audio" />
            <span class="muted">{formatDuration(media.durationMs)}</span>
          </div>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
      {media && (
        <div class="card">
          <h2>{t('saveHeading')}</h2>
          <label class="field">
            <span>{t('bulletinTitle')}</span>
            <input
              value={title}
              maxLength={200}
              data-testid="tts-title"
              onInput={(e) => setTitle(e.currentTarget.value)}
            />
          </label>
          <label class="field">
            <span>{t('level')}</span>
            <select value={level} onChange={(e) => setLevel(e.currentTarget.value as BulletinLevel)}>
              {(['normal', 'priority', 'emergency'] as const).map((l) => (
                <option key={l} value={l}>
                  {tLevel(l)}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            class="btn btn-primary"
            disabled={!title.trim()}
            onClick={() => void save()}
            data-testid="tts-save"
          >
            {t('save')}
          </button>
          {saved && (
            <p class="ok" data-testid="tts-saved" data-bulletin-id={saved.id}>
              {saved.status === 'draft' ? t('savedDraft') : t('saved')}: {saved.title}
            </p>
          )}
        </div>
      )}
      {saved && saved.status !== 'draft' && <ScheduleForm bulletins={[saved]} bulletinId={saved.id} />}
    </section>
  )
}
