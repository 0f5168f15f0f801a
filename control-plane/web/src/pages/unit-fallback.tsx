import { useState } from 'preact/hooks'
import { ApiError, api, get } from '../api'
import { t } from '../common.i18n'
import { can } from '../session'
import type { Fallback } from '../types'
import { Button } from '../ui/button'
import { Field } from '../ui/field'
import { ErrorBox, Loading } from '../ui/states'
import { toast } from '../ui/toast'
import { ActionError, ConfirmAction, useAction } from '../ui/use-action'
import { useData } from '../ui/use-data'
import { ta } from './admin.i18n'
import { WeekdayPicker } from './weekday-picker'

interface BulletinRow {
  id: string
  title: string
  status?: string
}

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/
const ALL_DAYS = [1, 2, 3, 4, 5, 6, 7]

/** "05:00-07:00, 17:00-19:00" → windows, or the first part that is not a window ending after it starts. */
export function parseWindows(
  text: string,
  days: number[],
): { windows: Fallback['windows'] } | { bad: string } {
  const parts = text
    .split(',')
    .map((s) => s.replace(/\s+/g, '').replace('–', '-'))
    .filter(Boolean)
  const windows: Fallback['windows'] = []
  for (const p of parts) {
    const [from, until] = p.split('-')
    if (!WINDOW.test(p) || !from || !until || until <= from) return { bad: p }
    windows.push({ daysOfWeek: days, from, until })
  }
  return { windows }
}

async function load(unitId: string) {
  const [fallback, { bulletins }] = await Promise.all([
    get<Fallback>(`/api/units/${encodeURIComponent(unitId)}/fallback`).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return null
      throw err
    }),
    get<{ bulletins: BulletinRow[] }>('/api/bulletins'),
  ])
  // Drafts are never broadcast, so they are not offered (one already chosen stays listed).
  const chosen = new Set(fallback?.bulletinIds ?? [])
  return { fallback, bulletins: bulletins.filter((b) => b.status !== 'draft' || chosen.has(b.id)) }
}

/** A unit's fallback programme: shown to everyone, edited with the `content` permission, as the API requires. */
export function UnitFallback({ unitId, name }: { unitId: string; name: string }) {
  const d = useData(() => load(unitId), [unitId])
  if (!d.data) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const { fallback, bulletins } = d.data
  return (
    <div class="card section" data-testid="fallback">
      <h2>{ta('units.fallback')}</h2>
      <p class="muted">{ta('fb.help')}</p>
      <p data-testid="fallback-summary">
        {fallback
          ? ta('units.fallbackText', {
              n: fallback.bulletinIds.length,
              windows: fallback.windows.map((w) => `${w.from}–${w.until}`).join(', ') || '—',
              volume: fallback.volume === null ? '—' : `${fallback.volume}%`,
            })
          : ta('units.noFallback')}
      </p>
      {can('content') ? (
        <FallbackForm
          key={fallback?.updatedAt ?? 'none'}
          unitId={unitId}
          name={name}
          fallback={fallback}
          bulletins={bulletins}
          onChanged={d.reload}
        />
      ) : null}
    </div>
  )
}

interface FormProps {
  unitId: string
  name: string
  fallback: Fallback | null
  bulletins: BulletinRow[]
  onChanged: () => void
}

function FallbackForm({ unitId, name, fallback, bulletins, onChanged }: FormProps) {
  const path = `/api/units/${encodeURIComponent(unitId)}/fallback`
  const [chosen, setChosen] = useState<string[]>(fallback?.bulletinIds ?? [])
  const [windowsText, setWindowsText] = useState(
    (fallback?.windows ?? []).map((w) => `${w.from}-${w.until}`).join(', '),
  )
  const [days, setDays] = useState<number[]>(fallback?.windows[0]?.daysOfWeek ?? ALL_DAYS)
  const [volume, setVolume] = useState(fallback?.volume === null || !fallback ? '' : String(fallback.volume))
  const [problem, setProblem] = useState<string | null>(null)
  const [removing, setRemoving] = useState(false)
  const mixedDays = new Set((fallback?.windows ?? []).map((w) => w.daysOfWeek.join())).size > 1
  const save = useAction(async (body: Omit<Fallback, 'unitId' | 'updatedAt'>) => {
    await api('PUT', path, { ...body, volume: body.volume ?? undefined })
    toast(ta('fb.saved'), 'success')
    onChanged()
  })
  const submit = (e: Event) => {
    e.preventDefault()
    const parsed = parseWindows(windowsText, days)
    let why: string | null = null
    if (chosen.length === 0) why = ta('fb.pickBulletin')
    else if (days.length === 0) why = ta('fb.pickDay')
    else if ('bad' in parsed) why = ta('fb.windowsInvalid', { value: parsed.bad })
    setProblem(why)
    if (why || 'bad' in parsed) return
    void save.run({
      bulletinIds: chosen,
      windows: parsed.windows,
      volume: volume === '' ? null : Number(volume),
    })
  }
  return (
    <form onSubmit={submit} data-testid="fallback-form">
      <fieldset class="choices">
        <legend>{ta('fb.bulletins')}</legend>
        {bulletins.length === 0 ? <p class="muted">{ta('fb.noBulletins')}</p> : null}
        {bulletins.map((b) => (
          <label key={b.id} class="check">
            <input
              type="checkbox"
              name="bulletin"
              value={b.id}
              checked={chosen.includes(b.id)}
              onChange={(e) =>
                setChosen((c) => (e.currentTarget.checked ? [...c, b.id] : c.filter((x) => x !== b.id)))
              }
            />{' '}
            {b.title}
          </label>
        ))}
      </fieldset>
      <Field label={ta('fb.windows')} hint={ta('fb.windowsHint')}>
        {(id) => (
          <input
            id={id}
            name="windows"
            value={windowsText}
            onInput={(e) => setWindowsText(e.currentTarget.value)}
          />
        )}
      </Field>
      <WeekdayPicker legend={ta('fb.days')} value={days} onChange={setDays} />
      {mixedDays ? <p class="muted">{ta('fb.mixedDays')}</p> : null}
      <Field label={ta('fb.volume')} hint={ta('fb.volumeHint')}>
        {(id) => (
          <input
            id={id}
            name="volume"
            type="number"
            min={0}
            max={100}
            value={volume}
            onInput={(e) => setVolume(e.currentTarget.value)}
          />
        )}
      </Field>
      <ActionError error={problem ?? save.error} />
      <div class="row">
        <Button kind="primary" type="submit" busy={save.busy} data-testid="save-fallback">
          {t('save')}
        </Button>
        {fallback ? (
          <Button kind="danger" onClick={() => setRemoving(true)} data-testid="remove-fallback">
            {ta('fb.remove')}
          </Button>
        ) : null}
      </div>
      {removing ? (
        <ConfirmAction
          title={ta('fb.removeTitle', { name })}
          text={ta('fb.removeText')}
          confirmLabel={ta('fb.remove')}
          action={async () => {
            await api('DELETE', path)
            toast(ta('fb.removed'), 'success')
            onChanged()
          }}
          onClose={() => setRemoving(false)}
        />
      ) : null}
    </form>
  )
}
