import { useEffect, useState } from 'preact/hooks'
import { errorText } from '../api'
import { AckTable, useCountsStream } from './ack-counts'
import { contentApi } from './content-api'
import type { Bulletin, Cluster } from './content-types'
import { tEmergency as t } from './emergency.i18n'
import { type TargetKey, TargetSelect, targetsOf, useTree } from './target-select'

type Step =
  | { kind: 'idle' }
  | { kind: 'form' }
  | { kind: 'preview'; reached: Cluster[] }
  | { kind: 'live'; alertId: string; title: string }

/**
 * The guarded emergency button: compose → preview of the clusters reached (count, offline ones) → explicit
 * confirmation → raise, then live acknowledgement counts from the alert's event stream, and cancel.
 */
export function EmergencyPage() {
  const { units, clusters } = useTree()
  const [step, setStep] = useState<Step>({ kind: 'idle' })
  const [bulletins, setBulletins] = useState<Bulletin[]>([])
  const [active, setActive] = useState<{ id: string; title: string }[]>([])
  const [title, setTitle] = useState('')
  const [bulletinId, setBulletinId] = useState('')
  const [target, setTarget] = useState<TargetKey | ''>('')
  const [repeat, setRepeat] = useState(2)
  const [confirmed, setConfirmed] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    void contentApi
      .listBulletins()
      // Drafts cannot be raised; emergency bulletins first: they are what this page is for.
      .then((bs) =>
        setBulletins(
          bs
            .filter((b) => b.status !== 'draft')
            .sort((a, b) => Number(b.level === 'emergency') - Number(a.level === 'emergency')),
        ),
      )
      .catch(() => {})
    void contentApi
      .listAlerts('active')
      .then((as) => setActive(as.filter((a) => a.level === 'emergency')))
      .catch(() => {})
  }, [step.kind])

  const preview = async () => {
    setError(null)
    if (!title.trim() || !bulletinId || !target) return setError(t('missing'))
    try {
      const reached = target.startsWith('unit:')
        ? await contentApi.listClusters(target.slice(5))
        : clusters.filter((c) => `cluster:${c.id}` === target)
      setConfirmed(false)
      setStep({ kind: 'preview', reached })
    } catch (e) {
      setError(errorText(e))
    }
  }

  const raise = async () => {
    setBusy(true)
    setError(null)
    try {
      const a = await contentApi.raiseAlert({
        title: title.trim(),
        bulletinId,
        targets: targetsOf(target),
        repeat,
      })
      setStep({ kind: 'live', alertId: a.id, title: title.trim() })
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <section class="content-page emergency-page">
      <h1>{t('title')}</h1>
      <p class="muted">{t('intro')}</p>
      {step.kind === 'idle' && active.length > 0 && (
        <div class="card">
          <h2>{t('active')}</h2>
          <ul class="list">
            {active.map((a) => (
              <li key={a.id}>
                {a.title}{' '}
                <button
                  class="btn"
                  type="button"
                  onClick={() => setStep({ kind: 'live', alertId: a.id, title: a.title })}
                >
                  {t('view')}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      {step.kind === 'idle' && (
        <button
          type="button"
          class="btn btn-danger big"
          data-testid="emergency-start"
          onClick={() => setStep({ kind: 'form' })}
        >
          {t('start')}
        </button>
      )}
      {step.kind === 'form' && (
        <div class="card">
          <label class="field">
            <span>{t('alertTitle')}</span>
            <input
              value={title}
              maxLength={200}
              data-testid="emergency-title"
              onInput={(e) => setTitle(e.currentTarget.value)}
            />
          </label>
          <label class="field">
            <span>{t('bulletin')}</span>
            <select
              value={bulletinId}
              data-testid="emergency-bulletin"
              onChange={(e) => setBulletinId(e.currentTarget.value)}
            >
              <option value="">{t('chooseBulletin')}</option>
              {bulletins.map((b) => (
                <option key={b.id} value={b.id}>
                  {b.title}
                </option>
              ))}
            </select>
          </label>
          <div class="field">
            <label for="emergency-target">{t('target')}</label>
            <TargetSelect
              id="emergency-target"
              value={target}
              onChange={setTarget}
              units={units}
              clusters={clusters}
              labels={{ unit: t('unit'), cluster: t('cluster') }}
              testId="emergency-target"
            />
          </div>
          <label class="field">
            <span>{t('repeat')}</span>
            <input
              type="number"
              min={1}
              max={20}
              value={repeat}
              onInput={(e) => setRepeat(Math.min(20, Math.max(1, Number(e.currentTarget.value) || 1)))}
            />
          </label>
          <div class="row">
            <button class="btn" type="button" onClick={() => setStep({ kind: 'idle' })}>
              {t('back')}
            </button>
            <button
              type="button"
              class="btn btn-primary"
              data-testid="emergency-preview"
              onClick={() => void preview()}
            >
              {t('next')}
            </button>
          </div>
        </div>
      )}
      {step.kind === 'preview' && (
        <div class="card danger-zone" data-testid="emergency-confirm-step">
          <h2>{t('previewHeading')}</h2>
          <p class="big-number">
            {t('willReach')} <strong data-testid="emergency-cluster-count">{step.reached.length}</strong>{' '}
            {t('clusters')}
          </p>
          {step.reached.length === 0 ? (
            <p class="error">{t('noClusters')}</p>
          ) : (
            <ul class="list compact">
              {step.reached.slice(0, 50).map((c) => (
                <li key={c.id}>
                  {c.name} {!c.online && <span class="badge tone-warn">{t('offline')}</span>}
                </li>
              ))}
              {step.reached.length > 50 && <li>…</li>}
            </ul>
          )}
          <label class="confirm">
            <input
              type="checkbox"
              checked={confirmed}
              data-testid="emergency-confirm"
              onChange={(e) => setConfirmed(e.currentTarget.checked)}
            />{' '}
            {t('confirm')}
          </label>
          <div class="row">
            <button class="btn" type="button" onClick={() => setStep({ kind: 'form' })}>
              {t('back')}
            </button>
            <button
              type="button"
              class="btn btn-danger big"
              data-testid="emergency-raise"
              disabled={!confirmed || busy || step.reached.length === 0}
              onClick={() => void raise()}
            >
              {busy ? t('raising') : t('raise')}
            </button>
          </div>
        </div>
      )}
      {step.kind === 'live' && (
        <AlertProgress alertId={step.alertId} title={step.title} onClose={() => setStep({ kind: 'idle' })} />
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  )
}

/** Live acknowledgement counts of one alert, and its cancel button (two clicks: no dialog to miss on a phone). */
function AlertProgress(props: { alertId: string; title: string; onClose(): void }) {
  const live = useCountsStream(`/api/alerts/${encodeURIComponent(props.alertId)}/stream`)
  const [arming, setArming] = useState(false)
  const [cancelled, setCancelled] = useState(false)
  const [error, setError] = useState<string | null>(null)

  const cancel = async () => {
    if (!arming) return setArming(true)
    setError(null)
    try {
      await contentApi.cancelAlert(props.alertId)
      setCancelled(true)
    } catch (e) {
      setError(errorText(e))
    }
    setArming(false)
  }
  const state = cancelled ? 'cancelled' : live.state
  return (
    <div class="card" data-testid="emergency-live" data-alert-id={props.alertId}>
      <h2>
        {t('liveHeading')}: {props.title}
      </h2>
      <p>
        <span class={`badge state-${state}`} data-testid="emergency-state" data-state={state}>
          {state === 'active' || state === 'cancelled' || state === 'expired' ? t(`state_${state}`) : state}
        </span>
      </p>
      {live.counts && (
        <AckTable counts={live.counts} label={(stage) => t(`stage_${stage}`)} targetedLabel={t('targeted')} />
      )}
      <div class="row">
        {state === 'active' && (
          <button
            type="button"
            class="btn btn-danger"
            data-testid="emergency-cancel"
            onClick={() => void cancel()}
          >
            {arming ? t('cancelConfirm') : t('cancel')}
          </button>
        )}
        <button class="btn" type="button" onClick={props.onClose}>
          {t('close')}
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
