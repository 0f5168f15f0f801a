import { useEffect, useState } from 'preact/hooks'
import { errorText } from '../api'
import { currentSession } from '../session'
import { contentApi } from './content-api'
import { formatBytes, formatDuration } from './content-format'
import type { BulletinLevel, Media } from './content-types'
import { tLevel } from './levels.i18n'
import { tMedia as t } from './media.i18n'

type Phase = { kind: 'idle' } | { kind: 'uploading'; fraction: number } | { kind: 'transcoding' }

/** Upload with progress, then preview what the speakers will play (the transcoded file, not the original). */
export function MediaPage() {
  const [file, setFile] = useState<File | null>(null)
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' })
  const [error, setError] = useState<string | null>(null)
  const [result, setResult] = useState<Media | null>(null)
  const [library, setLibrary] = useState<Media[]>([])
  const [selected, setSelected] = useState<string | null>(null)

  const reload = () =>
    contentApi
      .listMedia()
      .then((m) => setLibrary([...m].sort((a, b) => b.createdAt.localeCompare(a.createdAt))))
      .catch((e: Error) => setError(e.message))
  useEffect(() => void reload(), [])

  const upload = async () => {
    if (!file) return setError(t('noFile'))
    setError(null)
    setResult(null)
    setPhase({ kind: 'uploading', fraction: 0 })
    try {
      const media = await contentApi.uploadMedia(file, (fraction) =>
        setPhase(fraction >= 1 ? { kind: 'transcoding' } : { kind: 'uploading', fraction }),
      )
      setResult(media)
      setSelected(media.sha256)
      void reload()
    } catch (e) {
      setError(errorText(e))
    } finally {
      setPhase({ kind: 'idle' })
    }
  }

  return (
    <section class="content-page media-page">
      <h1>{t('title')}</h1>
      <p class="muted">{t('intro')}</p>
      <div class="card">
        <label class="field">
          <span>{t('choose')}</span>
          <input
            type="file"
            accept="audio/*,video/*,.mp3,.wav,.ogg,.opus,.m4a,.aac,.flac"
            data-testid="media-file"
            onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
          />
        </label>
        <button
          type="button"
          class="btn btn-primary"
          data-testid="media-upload"
          disabled={phase.kind !== 'idle'}
          onClick={() => void upload()}
        >
          {t('upload')}
        </button>
        {phase.kind === 'uploading' && (
          <div class="progress" data-testid="media-progress" data-percent={Math.round(phase.fraction * 100)}>
            <progress max={1} value={phase.fraction} />
            <span>
              {t('uploading')} {Math.round(phase.fraction * 100)}%
            </span>
          </div>
        )}
        {phase.kind === 'transcoding' && (
          <div class="progress" data-testid="media-progress" data-percent={100}>
            <progress max={1} value={1} />
            <span>{t('transcoding')}</span>
          </div>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
      {result && <MediaCard media={result} fresh />}
      <h2>{t('library')}</h2>
      {library.length === 0 ? (
        <p class="muted">{t('empty')}</p>
      ) : (
        <ul class="list" data-testid="media-library">
          {library.map((m) => (
            <li key={m.sha256}>
              <button type="button" class="btn btn-link" onClick={() => setSelected(m.sha256)}>
                {m.originalName || m.sha256.slice(0, 12)}
              </button>{' '}
              <span class="muted">{formatDuration(m.durationMs)}</span>
              {selected === m.sha256 && result?.sha256 !== m.sha256 && <MediaCard media={m} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

/** One media item: its figures, an audio preview of the stored file, and "save as bulletin". */
function MediaCard({ media, fresh = false }: { media: Media; fresh?: boolean }) {
  const [title, setTitle] = useState(media.originalName.replace(/\.[^.]+$/, ''))
  const [level, setLevel] = useState<BulletinLevel>('normal')
  const [saved, setSaved] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)

  const save = async () => {
    setError(null)
    try {
      const b = await contentApi.createBulletin({
        title: title.trim(),
        level,
        mediaSha256: media.sha256,
        // The operator's unit owns it, so that unit's approval step applies.
        unitId: currentSession()?.user.scopeUnitId ?? undefined,
      })
      setSaved(b.id)
    } catch (e) {
      setError(errorText(e))
    }
  }

  return (
    <div class="card media-card" data-testid={fresh ? 'media-result' : 'media-selected'}>
      {fresh && (
        <p class="ok">
          {media.deduplicated ? t('deduplicated') : t('uploaded')}: <strong>{media.originalName}</strong>
        </p>
      )}
      <dl class="kv">
        <dt>{t('duration')}</dt>
        <dd data-testid="media-duration">{formatDuration(media.durationMs)}</dd>
        <dt>{t('format')}</dt>
        <dd>
          {media.codec} {media.bitrateKbps} kbps
        </dd>
        <dt>{t('loudness')}</dt>
        <dd>{media.loudness.inputI.toFixed(1)} LUFS</dd>
        <dt>{t('size')}</dt>
        <dd>{formatBytes(media.size)}</dd>
      </dl>
      {/* biome-ignore lint/a11y/useMediaCaption: uploaded audio comes without captions; the bulletin title names it */}
      <audio
        controls
        preload="metadata"
        src={`/media/${media.sha256}`}
        data-testid="media-preview"
        aria-label={t('preview')}
      />
      <details>
        <summary>{t('saveAsBulletin')}</summary>
        <label class="field">
          <span>{t('bulletinTitle')}</span>
          <input
            value={title}
            maxLength={200}
            data-testid="bulletin-title"
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>{t('level')}</span>
          <select
            value={level}
            onChange={(e) => setLevel(e.currentTarget.value as BulletinLevel)}
            data-testid="bulletin-level"
          >
            {(['normal', 'priority', 'emergency'] as const).map((l) => (
              <option key={l} value={l}>
                {tLevel(l)}
              </option>
            ))}
          </select>
        </label>
        <button
          class="btn"
          type="button"
          disabled={!title.trim()}
          onClick={() => void save()}
          data-testid="bulletin-save"
        >
          {t('save')}
        </button>
        {saved && (
          <p class="ok" data-testid="bulletin-saved">
            {t('saved')}
          </p>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </details>
    </div>
  )
}
