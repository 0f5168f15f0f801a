import { useRef, useState } from 'preact/hooks'
import { api, type LocalAction } from './api.js'
import { errorText, type T, timeText } from './i18n.js'

/** Upload a file, or record with the phone's microphone (MediaRecorder) and upload that; the box transcodes. */
export function Announcement(props: { t: T; actions: LocalAction[]; onChange: () => void }) {
  const { t } = props
  const fileRef = useRef<HTMLInputElement>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [recorder, setRecorder] = useState<MediaRecorder | null>(null)
  const send = async (blob: Blob, name: string) => {
    setBusy(true)
    setError(null)
    try {
      const form = new FormData()
      form.append('file', blob, name)
      await api('POST', '/api/announcements', form)
      if (fileRef.current) fileRef.current.value = ''
      props.onChange()
    } catch (err) {
      setError(errorText(t, err))
    } finally {
      setBusy(false)
    }
  }
  const upload = () => {
    const f = fileRef.current?.files?.[0]
    if (f) void send(f, f.name)
  }
  const record = async () => {
    setError(null)
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true })
      const rec = new MediaRecorder(stream)
      const chunks: Blob[] = []
      rec.ondataavailable = (e) => chunks.push(e.data)
      rec.onstop = () => {
        for (const tr of stream.getTracks()) tr.stop()
        setRecorder(null)
        void send(new Blob(chunks, { type: rec.mimeType }), 'recording')
      }
      rec.start()
      setRecorder(rec)
    } catch {
      setError(t('noMic'))
    }
  }
  const mine = props.actions.filter((a) => a.kind === 'announcement').slice(0, 3)
  return (
    <section id="announcement">
      <h2>{t('announcement')}</h2>
      <p class="muted">{t('announcementHint')}</p>
      <div class="row">
        <input
          id="announcement-file"
          ref={fileRef}
          type="file"
          accept="audio/*"
          aria-label={t('chooseFile')}
        />
        <button type="button" id="announcement-upload" disabled={busy} onClick={upload}>
          {t('upload')}
        </button>
      </div>
      <div class="row" style="margin-top:0.5rem">
        {recorder ? (
          <button type="button" class="danger" id="record-stop" onClick={() => recorder.stop()}>
            {t('stopRecord')}
          </button>
        ) : (
          <button type="button" class="secondary" id="record" disabled={busy} onClick={record}>
            {t('record')}
          </button>
        )}
        {recorder && <span class="bad">{t('recording')}</span>}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ul class="list">
        {mine.map((a) => (
          <li key={a.id} data-announcement={a.id} data-status={a.status}>
            {timeText(a.requestedAt)} · {t(`s_${a.status}`)}
            {a.reason ? ` — ${a.reason}` : ''}
            {(a.status === 'queued' || a.status === 'playing') && (
              <button
                type="button"
                class="secondary"
                onClick={() => api('POST', `/api/actions/${a.id}/cancel`).then(props.onChange)}
              >
                {t('cancel')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}
