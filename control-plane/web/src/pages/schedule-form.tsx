import { useEffect, useState } from 'preact/hooks'
import { errorText } from '../api'
import { contentApi } from './content-api'
import { fromLocal, localParts } from './content-format'
import type { Bulletin, Recurrence, Schedule } from './content-types'
import { tSchedule as t } from './schedule-form.i18n'
import { type TargetKey, TargetSelect, targetsOf, useTree } from './target-select'
import { WeekdayPicker } from './weekday-picker'

export interface ScheduleFormProps {
  bulletins: Bulletin[]
  bulletinId?: string
  target?: TargetKey | ''
  /** Local date and time in the province; default: two minutes from now. */
  date?: string
  time?: string
  onCreated?(s: Schedule): void
}

/** Create a schedule: which bulletin, where, when (once or weekly); then watch its plays arrive. */
export function ScheduleForm(props: ScheduleFormProps) {
  const { units, clusters } = useTree()
  const soon = localParts(new Date(Date.now() + 120_000))
  const [bulletinId, setBulletinId] = useState(props.bulletinId ?? '')
  const [target, setTarget] = useState<TargetKey | ''>(props.target ?? '')
  const [date, setDate] = useState(props.date ?? soon.date)
  const [time, setTime] = useState(props.time ?? soon.time)
  const [kind, setKind] = useState<'once' | 'weekly'>('once')
  const [weekdays, setWeekdays] = useState<number[]>([soon.isoWeekday])
  const [error, setError] = useState<string | null>(null)
  const [created, setCreated] = useState<Schedule | null>(null)

  useEffect(() => {
    if (props.bulletinId) setBulletinId(props.bulletinId)
  }, [props.bulletinId])
  useEffect(() => {
    if (props.target !== undefined) setTarget(props.target)
  }, [props.target])
  useEffect(() => {
    if (props.date) setDate(props.date)
    if (props.time) setTime(props.time)
  }, [props.date, props.time])

  const submit = async (e: Event) => {
    e.preventDefault()
    setError(null)
    if (!bulletinId || !target) return setError(t('missing'))
    let recurrence: Recurrence
    if (kind === 'once') {
      const at = fromLocal(date, time)
      if (at.getTime() < Date.now()) return setError(t('past'))
      recurrence = { kind: 'once', at: at.toISOString().replace(/\.\d{3}Z$/, 'Z') }
    } else {
      recurrence = { kind: 'weekly', daysOfWeek: weekdays, times: [time], startDate: date }
    }
    try {
      const s = await contentApi.createSchedule({ bulletinId, recurrence, targets: targetsOf(target) })
      setCreated(s)
      props.onCreated?.(s)
    } catch (err) {
      setError(errorText(err))
    }
  }

  return (
    <form class="card schedule-form" onSubmit={(e) => void submit(e)} data-testid="schedule-form">
      <h2>{t('heading')}</h2>
      <label class="field">
        <span>{t('bulletin')}</span>
        <select
          value={bulletinId}
          data-testid="schedule-bulletin"
          onChange={(e) => setBulletinId(e.currentTarget.value)}
        >
          <option value="">{t('chooseBulletin')}</option>
          {props.bulletins.map((b) => (
            <option key={b.id} value={b.id}>
              {b.title}
            </option>
          ))}
        </select>
      </label>
      <div class="field">
        <label for="schedule-target">{t('target')}</label>
        <TargetSelect
          id="schedule-target"
          value={target}
          onChange={setTarget}
          units={units}
          clusters={clusters}
          labels={{ unit: t('unit'), cluster: t('cluster') }}
          testId="schedule-target"
        />
      </div>
      <div class="row">
        <label class="field">
          <span>{t('date')}</span>
          <input
            type="date"
            value={date}
            data-testid="schedule-date"
            onInput={(e) => setDate(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>{t('time')}</span>
          <input
            type="time"
            step={1}
            value={time}
            data-testid="schedule-time"
            onInput={(e) => setTime(e.currentTarget.value)}
          />
        </label>
      </div>
      <fieldset>
        <legend>{t('repeat')}</legend>
        <label>
          <input type="radio" checked={kind === 'once'} onChange={() => setKind('once')} /> {t('once')}
        </label>
        <label>
          <input type="radio" checked={kind === 'weekly'} onChange={() => setKind('weekly')} /> {t('weekly')}
        </label>
        {kind === 'weekly' && <WeekdayPicker legend={t('days')} value={weekdays} onChange={setWeekdays} />}
      </fieldset>
      <button type="submit" class="btn btn-primary" data-testid="schedule-submit">
        {t('submit')}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {created && <PlaysArriving schedule={created} />}
    </form>
  )
}

/** Proof of play for a new schedule, as the simulated or real clusters report it. */
function PlaysArriving({ schedule }: { schedule: Schedule }) {
  const [played, setPlayed] = useState<string[]>([])
  useEffect(() => {
    let stop = false
    const poll = async () => {
      while (!stop) {
        if (document.visibilityState === 'visible') {
          try {
            const plays = await contentApi.listPlays({ scheduleId: schedule.id })
            setPlayed([...new Set(plays.filter((p) => p.status === 'played').map((p) => p.clusterId))].sort())
          } catch {
            // keep polling: a dropped request is not the schedule's fault
          }
        }
        await new Promise((r) => setTimeout(r, 3000))
      }
    }
    void poll()
    return () => {
      stop = true
    }
  }, [schedule.id])
  return (
    <p class="ok" data-testid="schedule-created" data-schedule-id={schedule.id}>
      {t('created')}: {schedule.title}.{' '}
      <span data-testid="schedule-plays" data-count={played.length}>
        {t('plays')} {played.length} {t('clusters')}
      </span>
    </p>
  )
}
