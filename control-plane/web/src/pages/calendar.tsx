import { useEffect, useState } from 'preact/hooks'
import { errorText } from '../api'
import { lang } from '../i18n'
import { setQuery } from '../router'
import { can, useSession } from '../session'
import { useData } from '../ui/use-data'
import { LevelBadge } from './bulletins'
import { tCalendar as t } from './calendar.i18n'
import { OccurrencePanel } from './calendar-occurrence'
import { contentApi } from './content-api'
import { addDays, localParts, mondayOf } from './content-format'
import type { Bulletin, Occurrence } from './content-types'
import { ScheduleForm } from './schedule-form'
import { weekdayText } from './schedule-form.i18n'
import { type TargetKey, TargetSelect, useTree } from './target-select'
import type { PageProps } from './types'

/** The server's reason in words (it sends English phrases; unknown ones are shown as they are). */
const reasonText = (r: string) =>
  r.startsWith('higher band') ? t('reason_preempts') : r.startsWith('equal band') ? t('reason_waits') : r

const ddmm = (date: string) => `${date.slice(8, 10)}/${date.slice(5, 7)}`

/** A week calendar per unit or cluster: occurrences by day, conflicts marked; create, move, cancel. */
export function CalendarPage({ query }: PageProps) {
  const session = useSession()
  const { units, clusters } = useTree()
  const scope = session?.user.scopeUnitId
  const target = (query.get('target') ?? (scope ? `unit:${scope}` : '')) as TargetKey | ''
  const today = localParts(new Date()).date
  const week = mondayOf(query.get('week') ?? today)
  const [selected, setSelected] = useState<Occurrence | null>(null)
  const [adding, setAdding] = useState<{ date: string; n: number } | null>(null)
  const [bulletins, setBulletins] = useState<Bulletin[]>([])

  useEffect(() => {
    void contentApi.listBulletins().then(
      (bs) => setBulletins(bs.filter((b) => b.status !== 'draft')),
      () => {},
    )
  }, [])
  const cal = useData(
    () =>
      target
        ? contentApi.calendar({
            ...(target.startsWith('unit:') ? { unitId: target.slice(5) } : { clusterId: target.slice(8) }),
            from: week,
            to: addDays(week, 7),
          })
        : Promise.resolve(null),
    [target, week],
    30_000,
  )
  const view = cal.data
  const tz = view?.timezone
  const days = Array.from({ length: 7 }, (_, i) => addDays(week, i))
  const byDay = new Map<string, Occurrence[]>(days.map((d) => [d, []]))
  for (const o of view?.occurrences ?? []) byDay.get(localParts(new Date(o.start), tz).date)?.push(o)
  const titles = new Map((view?.occurrences ?? []).map((o) => [o.key, o]))
  const changed = () => {
    setSelected(null)
    cal.reload()
  }

  return (
    <section class="content-page calendar-page">
      <h1>{t('title')}</h1>
      <p class="muted">{t('intro')}</p>
      <div class="row">
        <div class="field">
          <label for="cal-target">{t('show')}</label>
          <TargetSelect
            id="cal-target"
            value={target}
            onChange={(v) => setQuery('target', v || null)}
            units={units}
            clusters={clusters}
            labels={{ unit: t('unit'), cluster: t('cluster') }}
            testId="cal-target"
          />
        </div>
        <button class="btn" type="button" onClick={() => setQuery('week', addDays(week, -7))}>
          {t('prev')}
        </button>
        <button class="btn" type="button" onClick={() => setQuery('week', null)}>
          {t('thisWeek')}
        </button>
        <button
          class="btn"
          type="button"
          data-testid="cal-next"
          onClick={() => setQuery('week', addDays(week, 7))}
        >
          {t('next')}
        </button>
      </div>
      {!target ? (
        <p class="muted">{t('pick')}</p>
      ) : (
        <>
          <p>
            <strong data-testid="cal-week">
              {t('week', { from: ddmm(week), to: ddmm(addDays(week, 6)) })}
            </strong>
            {view ? ` · ${t('clusters', { n: view.clusterCount })}` : ''}
          </p>
          {cal.error ? <p class="error">{errorText(cal.error)}</p> : null}
          <div class="week-grid" data-testid="calendar">
            {days.map((d, i) => (
              <div key={d} class={`day${d === today ? ' today' : ''}`} data-date={d}>
                <h3>
                  {weekdayText[lang()][i]} {ddmm(d)}
                  {can('content') && (
                    <button
                      class="btn btn-link add"
                      type="button"
                      aria-label={t('add')}
                      title={t('add')}
                      data-testid="cal-add"
                      onClick={() => setAdding((a) => ({ date: d, n: (a?.n ?? 0) + 1 }))}
                    >
                      +
                    </button>
                  )}
                </h3>
                {(byDay.get(d) ?? []).length === 0 ? (
                  <p class="muted small">{t('nothing')}</p>
                ) : (
                  <ul class="occurrences">
                    {(byDay.get(d) ?? []).map((o) => (
                      <li key={o.key}>
                        <button
                          type="button"
                          class={`occ level-${o.level}${o.conflict ? ' conflict' : ''}`}
                          data-testid="cal-occurrence"
                          data-id={o.id}
                          data-conflict={String(o.conflict)}
                          onClick={() => setSelected(o)}
                        >
                          <span class="time">
                            {localParts(new Date(o.start), tz).time}–{localParts(new Date(o.end), tz).time}
                          </span>
                          <span class="title">
                            {o.kind === 'relay' ? `${t('relay')}: ${o.title}` : o.title}
                          </span>
                          {o.conflict && <span class="badge tone-bad">⚠ {t('conflict')}</span>}
                        </button>
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            ))}
          </div>
          {selected && (
            <OccurrencePanel
              occurrence={selected}
              timezone={tz}
              onChanged={changed}
              onClose={() => setSelected(null)}
            />
          )}
          {adding && (
            <ScheduleForm
              key={`${adding.date}#${adding.n}`}
              bulletins={bulletins}
              target={target}
              date={adding.date}
              time={adding.date === today ? undefined : '06:00'}
              onCreated={() => cal.reload()}
            />
          )}
          <h2>{t('conflicts')}</h2>
          {(view?.conflicts ?? []).length === 0 ? (
            <p class="muted">{t('noConflicts')}</p>
          ) : (
            <ul class="list" data-testid="cal-conflicts">
              {(view?.conflicts ?? []).map((c) => {
                const a = titles.get(c.a)
                const b = titles.get(c.b)
                const winner = titles.get(c.winner)
                return (
                  <li key={`${c.a}|${c.b}`} data-testid="cal-conflict">
                    <span class="badge tone-bad">⚠</span> {a?.title ?? c.a} ↔ {b?.title ?? c.b}
                    {a ? ` (${localParts(new Date(a.start), tz).time})` : ''} — {winner?.title ?? c.winner}{' '}
                    {t('wins')} ({reasonText(c.reason)}) · {t('clusters', { n: c.clusterIds.length })}
                    {a && <LevelBadge level={a.level} />}
                  </li>
                )
              })}
            </ul>
          )}
        </>
      )}
    </section>
  )
}
