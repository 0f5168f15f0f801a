import { useState } from 'preact/hooks'
import { ApiError, errorText } from '../api'
import { can } from '../session'
import { toast } from '../ui/toast'
import { LevelBadge } from './bulletins'
import { tCalendar as t } from './calendar.i18n'
import { contentApi } from './content-api'
import { formatDuration, fromLocal, localParts } from './content-format'
import type { Occurrence } from './content-types'

/** One occurrence: when, where, and (for schedules) move it or cancel it or its whole schedule. */
export function OccurrencePanel(props: {
  occurrence: Occurrence
  timezone: string | undefined
  onChanged: () => void
  onClose: () => void
}) {
  const o = props.occurrence
  const start = localParts(new Date(o.start), props.timezone)
  const [date, setDate] = useState(start.date)
  const [time, setTime] = useState(start.time)
  const [conflict, setConflict] = useState(false)
  const [arming, setArming] = useState<'one' | 'all' | null>(null)
  const [error, setError] = useState<string | null>(null)
  const editable = o.kind === 'schedule' && can('content')

  const move = async (force: boolean) => {
    setError(null)
    try {
      const to = fromLocal(date, time, props.timezone).toISOString()
      await contentApi.moveOccurrence(o.id, { occurrence: o.start, to, ...(force ? { force } : {}) })
      toast(t('moved'), 'success')
      props.onChanged()
    } catch (e) {
      if (e instanceof ApiError && e.code === 'LOA_CALENDAR_CONFLICT') setConflict(true)
      else setError(errorText(e))
    }
  }
  const cancel = async (which: 'one' | 'all') => {
    if (arming !== which) return setArming(which)
    setError(null)
    try {
      await contentApi.cancelSchedule(o.id, which === 'one' ? o.start : undefined)
      toast(t('cancelled'), 'success')
      props.onChanged()
    } catch (e) {
      setError(errorText(e))
    }
    setArming(null)
  }

  return (
    <div class="card" data-testid="cal-panel">
      <h2>
        {t('details')}: {o.title} <LevelBadge level={o.level} />
      </h2>
      <p>
        {t('at')} {start.date.split('-').reverse().join('/')} {start.time} · {formatDuration(o.durationMs)} ·{' '}
        {t('onClusters')} {t('clusters', { n: o.clusterIds.length })}
        {o.conflict && <span class="badge tone-bad"> ⚠ {t('conflict')}</span>}
      </p>
      {editable && (
        <>
          <div class="row">
            <div class="field">
              <label for="move-date">{t('moveTo')}</label>
              <input
                id="move-date"
                type="date"
                value={date}
                data-testid="cal-move-date"
                onInput={(e) => setDate(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for="move-time">&nbsp;</label>
              <input
                id="move-time"
                type="time"
                step={1}
                value={time}
                data-testid="cal-move-time"
                onInput={(e) => setTime(e.currentTarget.value)}
              />
            </div>
            <button
              class="btn btn-primary"
              type="button"
              data-testid="cal-move"
              onClick={() => void move(false)}
            >
              {t('moveDo')}
            </button>
          </div>
          {conflict && (
            <p class="error" role="alert">
              {t('moveConflict')}{' '}
              <button class="btn btn-danger" type="button" onClick={() => void move(true)}>
                {t('moveForce')}
              </button>
            </p>
          )}
          <div class="row">
            <button
              class="btn btn-danger"
              type="button"
              data-testid="cal-cancel-one"
              onClick={() => void cancel('one')}
            >
              {arming === 'one' ? t('confirmAgain') : t('cancelOne')}
            </button>
            {o.recurrence !== 'once' && (
              <button class="btn btn-danger" type="button" onClick={() => void cancel('all')}>
                {arming === 'all' ? t('confirmAgain') : t('cancelAll')}
              </button>
            )}
          </div>
        </>
      )}
      <button class="btn" type="button" onClick={props.onClose}>
        {t('close')}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
