import { useEffect, useState } from 'preact/hooks'
import { errorText } from '../api'
import { currentSession } from '../session'
import { contentApi } from './content-api'
import { formatDuration } from './content-format'
import type { Bulletin, BulletinLevel, Voice } from './content-types'
import { tLevel } from './levels.i18n'
import { ScheduleForm } from './schedule-form'
import { tTts as t } from './tts.i18n'

const MAX_TEXT = 4000

/** The engine's audio as a blob URL for the preview player (freed when replaced). */
function audioUrl(base64: string, mime: string): string {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
  return URL.createObjectURL(new Blob([bytes], { type: mime }))
}

const regionName = (v: Voice) => (v.region ? t(`region_${v.region}`) : v.engine)

/** Type Vietnamese text, pick a regional voice, hear it, save it as a bulletin and schedule it. */
export function TtsPage() {
  const [voices, setVoices] = useState<Voice[]>([])
  const [text, setText] = useState('')
  const [voice, setVoice] = useState('')
  const [reading, setReading] = useState<string | null>(null)
  const [preview, setPreview] = useState<string | null>(null)
  const [busy, setBusy] = useState<'preview' | 'save' | null>(null)
  const [title, setTitle] = useState('')
  const [level, setLevel] = useState<BulletinLevel>('normal')
  const [saved, setSaved] = useState<{ bulletin: Bulletin; durationMs: number } | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    void contentApi.listVoices().then(
      (v) => {
        setVoices(v.voices)
        setVoice((cur) => cur || v.defaultVoice)
      },
      (e: unknown) => setError(errorText(e)),
    )
  }, [])
  useEffect(() => () => void (preview && URL.revokeObjectURL(preview)), [preview])
  // A changed text or voice makes the shown reading and the saved bulletin stale.
  useEffect(() => {
    setReading(null)
    setSaved(null)
  }, [text, voice])

  const showReading = async () => {
    if (!text.trim()) return setError(t('needText'))
    setError(null)
    try {
      setReading(await contentApi.normalizeText(text, voice))
    } catch (e) {
      setError(errorText(e))
    }
  }

  const listen = async () => {
    if (!text.trim()) return setError(t('needText'))
    setError(null)
    setBusy('preview')
    try {
      const r = await contentApi.previewSpeech(text, voice)
      setPreview(audioUrl(r.audioBase64, r.mime))
      setReading(r.normalizedText)
      if (!title) setTitle(text.trim().split(/\s+/).slice(0, 8).join(' ').slice(0, 200))
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(null)
    }
  }

  const save = async () => {
    if (!text.trim()) return setError(t('needText'))
    setError(null)
    setBusy('save')
    try {
      const unitId = currentSession()?.user.scopeUnitId ?? undefined
      const r = await contentApi.speakBulletin({ text, voice, title: title.trim(), level, unitId })
      setSaved({ bulletin: r.bulletin, durationMs: r.media.durationMs })
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(null)
    }
  }

  return (
    <section class="content-page tts-page">
      <h1>{t('title')}</h1>
      <p class="muted">{t('intro')}</p>
      <div class="card">
        <div class="field">
          <label for="tts-text">{t('text')}</label>
          <textarea
            id="tts-text"
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
        </div>
        <fieldset class="voices">
          <legend>{t('voice')}</legend>
          {voices.map((v) => (
            <label key={v.id}>
              <input
                type="radio"
                name="voice"
                value={v.id}
                checked={voice === v.id}
                data-testid={`tts-voice-${v.region ?? v.id}`}
                onChange={() => setVoice(v.id)}
              />
              {regionName(v)} <span class="muted">· {v.engine}</span>
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
            disabled={busy !== null}
            onClick={() => void listen()}
            data-testid="tts-preview"
          >
            {busy === 'preview' ? t('synthesizing') : t('preview')}
          </button>
        </div>
        {reading !== null && (
          <p class="reading">
            {t('reading')}: <q data-testid="tts-reading">{reading}</q>
          </p>
        )}
        {preview && (
          // biome-ignore lint/a11y/useMediaCaption: the text it was spoken from is on the page, above it
          <audio controls src={preview} data-testid="tts-audio" />
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
      <div class="card">
        <h2>{t('saveHeading')}</h2>
        <div class="field">
          <label for="tts-title">{t('bulletinTitle')}</label>
          <input
            id="tts-title"
            value={title}
            maxLength={200}
            data-testid="tts-title"
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="tts-level">{t('level')}</label>
          <select
            id="tts-level"
            value={level}
            data-testid="tts-level"
            onChange={(e) => setLevel(e.currentTarget.value as BulletinLevel)}
          >
            {(['normal', 'priority', 'emergency'] as const).map((l) => (
              <option key={l} value={l}>
                {tLevel(l)}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          class="btn btn-primary"
          disabled={!title.trim() || !text.trim() || busy !== null}
          onClick={() => void save()}
          data-testid="tts-save"
        >
          {busy === 'save' ? t('synthesizing') : t('save')}
        </button>
        {saved && (
          <p class="ok" data-testid="tts-saved" data-bulletin-id={saved.bulletin.id}>
            {saved.bulletin.status === 'draft' ? t('savedDraft') : t('saved')}: {saved.bulletin.title} (
            {formatDuration(saved.durationMs)})
          </p>
        )}
      </div>
      {saved && saved.bulletin.status !== 'draft' && (
        <ScheduleForm bulletins={[saved.bulletin]} bulletinId={saved.bulletin.id} />
      )}
    </section>
  )
}
