import { useEffect, useState } from 'preact/hooks'
import { ApiError, errorText } from '../api'
import { AckTable, useCountsStream } from './ack-counts'
import { tLive as t } from './live.i18n'
import { type MicEnd, micUnsupported, useMicSession } from './mic-session'
import { type TargetKey, TargetSelect, targetsOf, useTree } from './target-select'

const pad = (n: number) => String(n).padStart(2, '0')
const clock = (ms: number) => {
  const s = Math.max(0, Math.floor(ms / 1000))
  return `${pad(Math.floor(s / 60))}:${pad(s % 60)}`
}

/** Why the last session ended, in the page's language (the server's message added for errors). */
function endText(end: MicEnd): string {
  const known: Record<string, Parameters<typeof t>[0]> = {
    stopped: 'micEndStopped',
    idle: 'micEndIdle',
    'max-duration': 'micEndTooLong',
    'relay-stopped': 'micEndRelayStopped',
    permission: 'micEndPermission',
    connection: 'micEndConnection',
  }
  const key = known[end.reason]
  if (key) return t(key)
  // Errors: the server's code in the page's language, with its detail.
  if (end.code) return errorText(new ApiError(0, end.code, end.message ?? ''))
  return `${t('micEndError')} ${end.message ?? ''}`
}

/** Speaking live from this browser's microphone: an ordinary live relay whose source is this page. */
export function MicPanel() {
  const { units, clusters } = useTree()
  const [title, setTitle] = useState(t('micDefaultTitle'))
  const [target, setTarget] = useState<TargetKey | ''>('')
  const [problem, setProblem] = useState<string | null>(null)
  const [now, setNow] = useState(Date.now())
  const mic = useMicSession()
  const { phase, liveId, startedAt, level, end } = mic.state
  const counts = useCountsStream(liveId ? `/api/lives/${encodeURIComponent(liveId)}/stream` : null)
  const unsupported = micUnsupported()

  useEffect(() => {
    if (phase !== 'live') return
    const timer = setInterval(() => setNow(Date.now()), 500)
    return () => clearInterval(timer)
  }, [phase])

  if (unsupported) {
    return (
      <div class="card mic-panel" data-testid="mic-panel">
        <p class="error" role="alert" data-testid="mic-unsupported">
          {t(unsupported === 'insecure' ? 'micInsecure' : 'micNoSupport')}
        </p>
      </div>
    )
  }

  const start = (e: Event) => {
    e.preventDefault()
    setProblem(null)
    if (!title.trim() || !target) return setProblem(t('micMissing'))
    void mic.start({ title: title.trim(), targets: targetsOf(target) })
  }

  const running = phase !== 'idle'
  return (
    <form class="card mic-panel" data-testid="mic-panel" data-phase={phase} onSubmit={start}>
      <p class="muted">{t('micIntro')}</p>
      <label class="field">
        <span>{t('liveTitle')}</span>
        <input
          value={title}
          maxLength={200}
          disabled={running}
          data-testid="mic-title"
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
      </label>
      <div class="field">
        <label for="mic-target">{t('target')}</label>
        <TargetSelect
          id="mic-target"
          value={target}
          onChange={setTarget}
          units={units}
          clusters={clusters}
          labels={{ unit: t('unit'), cluster: t('cluster') }}
          testId="mic-target"
        />
      </div>
      {!running && (
        <button type="submit" class="btn btn-primary" data-testid="mic-start">
          {t('micStart')}
        </button>
      )}
      {running && (
        <div class="mic-live" aria-live="polite">
          <p data-testid="mic-status">
            {phase === 'live' ? t('micOnAir') : phase === 'asking' ? t('micAsking') : t('micConnecting')}
            {phase === 'live' && startedAt !== null && (
              <strong data-testid="mic-elapsed"> {clock(now - startedAt)}</strong>
            )}
          </p>
          <meter
            class="mic-level"
            min={0}
            max={1}
            value={level}
            data-testid="mic-level"
            data-level={level.toFixed(3)}
            aria-label={t('micLevel')}
          />
          {counts.counts && (
            <AckTable
              counts={counts.counts}
              label={(stage) => t(`stage_${stage}`)}
              targetedLabel={t('targeted')}
            />
          )}
          <button
            type="button"
            class="btn btn-danger btn-big"
            data-testid="mic-stop"
            disabled={phase === 'stopping'}
            onClick={mic.stop}
          >
            {t('micStop')}
          </button>
        </div>
      )}
      {(problem || (end && !running)) && (
        <p
          class={end?.reason === 'stopped' && !problem ? 'muted' : 'error'}
          role="alert"
          data-testid="mic-end"
        >
          {problem ?? (end ? endText(end) : '')}
        </p>
      )}
    </form>
  )
}
