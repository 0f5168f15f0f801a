import { useState } from 'preact/hooks'
import { errorText } from '../api'
import { formatDateTime } from '../i18n'
import { can, useSession } from '../session'
import { toast } from '../ui/toast'
import { useData } from '../ui/use-data'
import { LevelBadge } from './bulletins'
import { contentApi } from './content-api'
import { formatDuration, formatLocal, fromLocal } from './content-format'
import type { Delivery, Programme, Unit } from './content-types'
import { tInbox as t } from './inbox.i18n'
import { unitTree, useTree } from './target-select'
import type { PageProps } from './types'

/** A commune's inbox: accept or decline normal bulletins from above; reorder the programmes they land in. */
export function InboxPage({ query }: PageProps) {
  const session = useSession()
  const { units } = useTree()
  const [unitId, setUnitId] = useState(query.get('unit') ?? session?.user.scopeUnitId ?? '')
  const chosen = unitId || units[0]?.id || ''
  const inbox = useData(() => (chosen ? contentApi.inbox(chosen) : Promise.resolve([])), [chosen], 15_000)
  const programmes = useData(
    () => (chosen ? contentApi.programmes(chosen) : Promise.resolve([])),
    [chosen],
    15_000,
  )
  const reload = () => {
    inbox.reload()
    programmes.reload()
  }
  const names = new Map(units.map((u) => [u.id, u.name]))
  const deliveries = inbox.data ?? []
  const pending = deliveries.filter((d) => d.state === 'pending')
  const decided = deliveries.filter((d) => d.state !== 'pending')

  return (
    <section class="content-page inbox-page">
      <h1>{t('title')}</h1>
      <p class="muted">{t('intro')}</p>
      <UnitPicker units={units} value={chosen} onChange={setUnitId} />
      {inbox.error ? <p class="error">{errorText(inbox.error)}</p> : null}
      <h2>
        {t('pending')} ({pending.length})
      </h2>
      {pending.length === 0 ? (
        <p class="muted">{t('noPending')}</p>
      ) : (
        pending.map((d) => <PendingItem key={d.id} d={d} from={names.get(d.fromUnitId)} onDone={reload} />)
      )}
      <h2>{t('programmes')}</h2>
      {(programmes.data ?? []).length === 0 ? (
        <p class="muted">{t('noProgrammes')}</p>
      ) : (
        (programmes.data ?? []).map((p) => <ProgrammeItem key={p.id} p={p} onChanged={programmes.reload} />)
      )}
      {decided.length > 0 && (
        <details class="card">
          <summary>
            {t('history')} ({decided.length})
          </summary>
          <ul class="list">
            {decided.map((d) => (
              <li key={d.id} data-testid="inbox-decided" data-state={d.state}>
                {d.bulletin?.title ?? d.bulletinId} — {t(`state_${d.state}`)}
                {d.reason ? `: ${d.reason}` : ''} <span class="muted">{formatDateTime(d.decidedAt)}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  )
}

function UnitPicker({
  units,
  value,
  onChange,
}: {
  units: Unit[]
  value: string
  onChange: (v: string) => void
}) {
  return (
    <div class="field">
      <label for="inbox-unit">{t('unit')}</label>
      <select id="inbox-unit" value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {unitTree(units).map(({ unit, depth }) => (
          <option key={unit.id} value={unit.id}>
            {'\u00a0\u00a0'.repeat(depth)}
            {unit.name}
          </option>
        ))}
      </select>
    </div>
  )
}

function PendingItem({ d, from, onDone }: { d: Delivery; from: string | undefined; onDone: () => void }) {
  const [listening, setListening] = useState(false)
  const [when, setWhen] = useState<'next' | 'custom'>('next')
  const [date, setDate] = useState('')
  const [time, setTime] = useState('')
  const [declining, setDeclining] = useState(false)
  const [reason, setReason] = useState('')
  const [error, setError] = useState<string | null>(null)
  const b = d.bulletin
  const accept = async () => {
    setError(null)
    try {
      const at = when === 'custom' && date && time ? fromLocal(date, time).toISOString() : undefined
      await contentApi.accept(d.id, at)
      toast(t('accepted'), 'success')
      onDone()
    } catch (e) {
      setError(errorText(e))
    }
  }
  const decline = async () => {
    if (!reason.trim()) return setError(t('needReason'))
    setError(null)
    try {
      await contentApi.decline(d.id, reason.trim())
      toast(t('declined'), 'success')
      onDone()
    } catch (e) {
      setError(errorText(e))
    }
  }
  return (
    <div class="card" data-testid="inbox-pending" data-delivery-id={d.id}>
      <h3>
        {b?.title ?? d.bulletinId} <LevelBadge level={d.level} />
      </h3>
      <p class="muted">
        {t('from')} {from ?? d.fromUnitId} · {t('sentAt')} {formatDateTime(d.sentAt)}
        {b ? ` · ${formatDuration(b.durationMs)}` : ''}
      </p>
      {d.note && (
        <p>
          {t('note')}: {d.note}
        </p>
      )}
      {b && (
        <button class="btn btn-link" type="button" onClick={() => setListening((l) => !l)}>
          {t('listen')}
        </button>
      )}
      {listening && b && (
        // biome-ignore lint/a11y/useMediaCaption: bulletin audio; its title is above it
        <audio controls autoPlay src={`/media/${b.mediaSha256}`} />
      )}
      {can('content') && (
        <>
          <fieldset>
            <legend>{t('slot')}</legend>
            <label>
              <input type="radio" checked={when === 'next'} onChange={() => setWhen('next')} />
              {t('nextSlot')}
            </label>
            <label>
              <input type="radio" checked={when === 'custom'} onChange={() => setWhen('custom')} />
              <input type="date" value={date} onInput={(e) => setDate(e.currentTarget.value)} />
              <input type="time" value={time} onInput={(e) => setTime(e.currentTarget.value)} />
            </label>
          </fieldset>
          <div class="row">
            <button
              class="btn btn-primary"
              type="button"
              data-testid="inbox-accept"
              onClick={() => void accept()}
            >
              {t('accept')}
            </button>
            <button class="btn" type="button" data-testid="inbox-decline" onClick={() => setDeclining(true)}>
              {t('decline')}
            </button>
          </div>
          {declining && (
            <div class="row">
              <div class="field">
                <label for={`reason-${d.id}`}>{t('declineReason')}</label>
                <input
                  id={`reason-${d.id}`}
                  value={reason}
                  maxLength={1000}
                  data-testid="inbox-reason"
                  onInput={(e) => setReason(e.currentTarget.value)}
                />
              </div>
              <button
                class="btn btn-danger"
                type="button"
                data-testid="inbox-decline-confirm"
                onClick={() => void decline()}
              >
                {t('decline')}
              </button>
            </div>
          )}
        </>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}

/** One slot's programme in play order; priority bulletins arrive in front and may be moved. */
function ProgrammeItem({ p, onChanged }: { p: Programme; onChanged: () => void }) {
  const move = async (i: number, by: -1 | 1) => {
    const ids = p.items.map((x) => x.bulletinId)
    const j = i + by
    if (j < 0 || j >= ids.length) return
    ;[ids[i], ids[j]] = [ids[j] as string, ids[i] as string]
    try {
      await contentApi.reorder(p.id, ids)
      toast(t('reordered'), 'success')
      onChanged()
    } catch (e) {
      toast(errorText(e), 'error')
    }
  }
  return (
    <div class="card" data-testid="programme" data-programme-id={p.id}>
      <h3>{formatLocal(p.startsAt)}</h3>
      <ol class="programme-items">
        {p.items.map((it, i) => (
          <li key={it.bulletinId} data-bulletin-id={it.bulletinId}>
            <span class="grow">
              {it.title} <LevelBadge level={it.level} />{' '}
              <span class="muted">{formatDuration(it.durationMs)}</span>
            </span>
            {can('content') && (
              <span class="row">
                <button
                  class="btn"
                  type="button"
                  disabled={i === 0}
                  aria-label={t('up')}
                  onClick={() => void move(i, -1)}
                >
                  ↑
                </button>
                <button
                  class="btn"
                  type="button"
                  disabled={i === p.items.length - 1}
                  aria-label={t('down')}
                  onClick={() => void move(i, 1)}
                >
                  ↓
                </button>
              </span>
            )}
          </li>
        ))}
      </ol>
    </div>
  )
}
