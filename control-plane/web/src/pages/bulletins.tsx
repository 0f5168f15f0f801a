import { useEffect, useState } from 'preact/hooks'
import { errorText } from '../api'
import { formatDateTime } from '../i18n'
import { can, currentSession, useSession } from '../session'
import { toast } from '../ui/toast'
import { useData } from '../ui/use-data'
import { tBulletins as t } from './bulletins.i18n'
import { contentApi } from './content-api'
import type { Bulletin, BulletinLevel, Media, Unit } from './content-types'
import { tLevel } from './levels.i18n'
import { ScheduleForm } from './schedule-form'
import { unitTree, useTree } from './target-select'

const LEVELS = ['normal', 'priority', 'emergency'] as const

export function LevelBadge({ level }: { level: BulletinLevel }) {
  return (
    <span class={`badge level-${level}`} data-level={level}>
      {tLevel(level)}
    </span>
  )
}

type Panel = { kind: 'schedule'; bulletin: Bulletin } | { kind: 'send'; bulletin: Bulletin } | null

/** The bulletin list: level, draft/approved, approve (four eyes), schedule, send to the units below. */
export function BulletinsPage() {
  const bulletins = useData(() => contentApi.listBulletins(), [])
  const [filter, setFilter] = useState<BulletinLevel | ''>('')
  const [listening, setListening] = useState<string | null>(null)
  const [panel, setPanel] = useState<Panel>(null)
  const { units } = useTree()
  const me = useSession()?.user.id

  const approve = async (b: Bulletin) => {
    try {
      await contentApi.approveBulletin(b.id)
      toast(t('approvedOk'), 'success')
      bulletins.reload()
    } catch (e) {
      toast(errorText(e), 'error')
    }
  }

  const rows = [...(bulletins.data ?? [])]
    .filter((b) => !filter || b.level === filter)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  const actions = (b: Bulletin) => (
    <div class="row">
      <button class="btn" type="button" onClick={() => setListening(listening === b.id ? null : b.id)}>
        {t('listen')}
      </button>
      {b.status === 'draft' && can('approve') && b.createdBy !== me && (
        <button
          class="btn btn-primary"
          type="button"
          data-testid="bulletin-approve"
          onClick={() => void approve(b)}
        >
          {t('approve')}
        </button>
      )}
      {b.status !== 'draft' && can('content') && (
        <button
          class="btn"
          type="button"
          data-testid="bulletin-schedule"
          onClick={() => setPanel({ kind: 'schedule', bulletin: b })}
        >
          {t('schedule')}
        </button>
      )}
      {b.status !== 'draft' && b.unitId && can('content') && (
        <button class="btn" type="button" onClick={() => setPanel({ kind: 'send', bulletin: b })}>
          {t('send')}
        </button>
      )}
    </div>
  )

  return (
    <section class="content-page bulletins-page">
      <h1>{t('title')}</h1>
      <p class="muted">{t('intro')}</p>
      {can('content') && <NewBulletin onCreated={bulletins.reload} />}
      <div class="field">
        <label for="bulletin-filter">{t('colLevel')}</label>
        <select
          id="bulletin-filter"
          value={filter}
          onChange={(e) => setFilter(e.currentTarget.value as BulletinLevel | '')}
        >
          <option value="">{t('filterAll')}</option>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {tLevel(l)}
            </option>
          ))}
        </select>
      </div>
      {bulletins.error ? <p class="error">{errorText(bulletins.error)}</p> : null}
      {rows.length === 0 ? (
        <p class="muted">{t('empty')}</p>
      ) : (
        <ul class="list" data-testid="bulletins">
          {rows.map((b) => (
            <li key={b.id} class="card bulletin" data-key={b.id}>
              <div class="bulletin-head">
                <strong>{b.title}</strong> <LevelBadge level={b.level} />{' '}
                <span
                  class={`badge ${b.status === 'draft' ? 'tone-warn' : 'tone-ok'}`}
                  data-status={b.status}
                >
                  {b.status === 'draft' ? t('draft') : t('approved')}
                </span>{' '}
                <span class="muted">{formatDateTime(b.createdAt)}</span>
              </div>
              {listening === b.id && (
                // biome-ignore lint/a11y/useMediaCaption: bulletin audio; its title is beside it
                <audio controls autoPlay src={`/media/${b.mediaSha256}`} />
              )}
              {actions(b)}
            </li>
          ))}
        </ul>
      )}
      {panel?.kind === 'schedule' && (
        <ScheduleForm bulletins={[panel.bulletin]} bulletinId={panel.bulletin.id} />
      )}
      {panel?.kind === 'send' && (
        <SendPanel bulletin={panel.bulletin} units={units} onClose={() => setPanel(null)} />
      )}
    </section>
  )
}

/** A bulletin from audio already uploaded (the media page can do the same right after an upload). */
function NewBulletin({ onCreated }: { onCreated: () => void }) {
  const [media, setMedia] = useState<Media[]>([])
  const [sha, setSha] = useState('')
  const [title, setTitle] = useState('')
  const [level, setLevel] = useState<BulletinLevel>('normal')
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    void contentApi.listMedia().then(setMedia, () => {})
  }, [])
  const create = async (e: Event) => {
    e.preventDefault()
    if (!sha || !title.trim()) return setError(t('missing'))
    setError(null)
    try {
      const unitId = currentSession()?.user.scopeUnitId ?? undefined
      await contentApi.createBulletin({ title: title.trim(), level, mediaSha256: sha, unitId })
      toast(t('created'), 'success')
      setTitle('')
      onCreated()
    } catch (err) {
      setError(errorText(err))
    }
  }
  return (
    <details class="card">
      <summary>{t('newHeading')}</summary>
      <form onSubmit={(e) => void create(e)}>
        <div class="field">
          <label for="nb-media">{t('media')}</label>
          <select id="nb-media" value={sha} onChange={(e) => setSha(e.currentTarget.value)}>
            <option value="">{t('chooseMedia')}</option>
            {media.map((m) => (
              <option key={m.sha256} value={m.sha256}>
                {m.originalName || m.sha256.slice(0, 12)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="nb-title">{t('bulletinTitle')}</label>
          <input
            id="nb-title"
            value={title}
            maxLength={200}
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="nb-level">{t('level')}</label>
          <select
            id="nb-level"
            value={level}
            onChange={(e) => setLevel(e.currentTarget.value as BulletinLevel)}
          >
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {tLevel(l)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="btn btn-primary">
          {t('create')}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </details>
  )
}

/** Send to units below the bulletin's unit: their inboxes (normal, priority) or at once (emergency). */
function SendPanel({ bulletin, units, onClose }: { bulletin: Bulletin; units: Unit[]; onClose: () => void }) {
  const [chosen, setChosen] = useState<string[]>([])
  const [note, setNote] = useState('')
  const [error, setError] = useState<string | null>(null)
  const below = unitTree(units, bulletin.unitId ?? null).filter((u) => u.unit.id !== bulletin.unitId)
  const sent = useData(() => contentApi.deliveries(bulletin.id), [bulletin.id])
  const names = new Map(units.map((u) => [u.id, u.name]))
  const send = async () => {
    if (chosen.length === 0) return setError(t('noUnits'))
    setError(null)
    try {
      const r = await contentApi.sendBulletin(bulletin.id, {
        toUnitIds: chosen,
        ...(note.trim() ? { note: note.trim() } : {}),
      })
      toast(r.alertId ? t('sentAlert') : t('sent', { n: chosen.length }), 'success')
      setChosen([])
      sent.reload()
    } catch (e) {
      setError(errorText(e))
    }
  }
  return (
    <div class="card" data-testid="send-panel">
      <h2>
        {t('sendHeading')}: {bulletin.title}
      </h2>
      {(sent.data ?? []).length > 0 && (
        <ul class="list" data-testid="deliveries">
          {(sent.data ?? []).map((d) => (
            <li key={d.id} data-state={d.state}>
              {names.get(d.toUnitId) ?? d.toUnitId}: {t(`state_${d.state}`)}
              {d.reason ? ` — ${d.reason}` : ''}
            </li>
          ))}
        </ul>
      )}
      <fieldset>
        {below.map(({ unit, depth }) => (
          <label key={unit.id} style={{ paddingLeft: `${depth}rem` }}>
            <input
              type="checkbox"
              disabled={(sent.data ?? []).some((d) => d.toUnitId === unit.id)}
              checked={chosen.includes(unit.id)}
              onChange={(e) =>
                setChosen((c) => (e.currentTarget.checked ? [...c, unit.id] : c.filter((x) => x !== unit.id)))
              }
            />
            {unit.name}
          </label>
        ))}
      </fieldset>
      <div class="field">
        <label for="send-note">{t('sendNote')}</label>
        <input id="send-note" value={note} maxLength={1000} onInput={(e) => setNote(e.currentTarget.value)} />
      </div>
      <div class="row">
        <button class="btn" type="button" onClick={onClose}>
          {t('close')}
        </button>
        <button class="btn btn-primary" type="button" onClick={() => void send()}>
          {t('sendButton')}
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
