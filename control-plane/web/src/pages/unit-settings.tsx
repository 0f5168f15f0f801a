import { useState } from 'preact/hooks'
import { api, get } from '../api'
import { t } from '../common.i18n'
import { formatDateTime } from '../i18n'
import { setQuery } from '../router'
import { can, useSession } from '../session'
import type { Unit, UnitSettings } from '../types'
import { Button } from '../ui/button'
import { Field } from '../ui/field'
import { ErrorBox, Loading } from '../ui/states'
import { toast } from '../ui/toast'
import { ActionError, useAction } from '../ui/use-action'
import { useData } from '../ui/use-data'
import { ta } from './admin.i18n'
import type { PageProps } from './types'
import { UnitFallback } from './unit-fallback'
import { treeLabel, unitTree } from './unit-tree'

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/

/** "06:00, 17:30" → ['06:00', '17:30'], or the first entry that is not a time. */
function parseSlots(text: string): { slots: string[] } | { bad: string } {
  const slots = text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean)
  const bad = slots.find((s) => !TIME.test(s))
  return bad === undefined ? { slots: [...new Set(slots)].sort() } : { bad }
}

async function loadUnit(id: string) {
  return get<UnitSettings>(`/api/units/${encodeURIComponent(id)}/settings`)
}

/** One unit's settings: editable with admin-devices, read-only otherwise (the API decides either way). */
function UnitSettingsCard({ unit, unitId }: { unit: Unit | undefined; unitId: string }) {
  const d = useData(() => loadUnit(unitId), [unitId])
  const editable = can('admin-devices')
  const [approval, setApproval] = useState<boolean | null>(null)
  const [slotsText, setSlotsText] = useState<string | null>(null)
  const [slotsError, setSlotsError] = useState<string | null>(null)
  const save = useAction(async (requiresApproval: boolean, slots: string[]) => {
    await api('PUT', `/api/units/${encodeURIComponent(unitId)}/settings`, { requiresApproval, slots })
    toast(ta('units.saved', { name: unit?.name ?? unitId }), 'success')
    setApproval(null)
    setSlotsText(null)
    d.reload()
  })
  if (!d.data) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const s = d.data
  const checked = approval ?? s.requiresApproval
  const text = slotsText ?? s.slots.join(', ')
  const submit = (e: Event) => {
    e.preventDefault()
    const parsed = parseSlots(text)
    if ('bad' in parsed) {
      setSlotsError(ta('units.slotsInvalid', { value: parsed.bad }))
      return
    }
    setSlotsError(null)
    void save.run(checked, parsed.slots)
  }
  return (
    <div data-testid="unit-settings" data-unit={unitId}>
      <form class="card" onSubmit={submit}>
        <h2>{unit?.name ?? unitId}</h2>
        {editable ? null : <p class="muted">{ta('units.readOnly')}</p>}
        <label class="check">
          <input
            type="checkbox"
            name="requiresApproval"
            checked={checked}
            disabled={!editable}
            onChange={(e) => setApproval(e.currentTarget.checked)}
          />{' '}
          {ta('units.approval')}
        </label>
        <p class="hint muted">{ta('units.approvalHelp')}</p>
        <Field label={ta('units.slots')} hint={ta('units.slotsHint')} error={slotsError}>
          {(id) => (
            <input
              id={id}
              name="slots"
              value={text}
              disabled={!editable}
              onInput={(e) => setSlotsText(e.currentTarget.value)}
            />
          )}
        </Field>
        <p class="muted">
          {ta('units.updatedAt')}: {s.updatedAt ? formatDateTime(s.updatedAt) : ta('units.never')}
        </p>
        <ActionError error={save.error} />
        {editable ? (
          <Button kind="primary" type="submit" busy={save.busy} data-testid="save-settings">
            {t('save')}
          </Button>
        ) : null}
      </form>
      <UnitFallback unitId={unitId} name={unit?.name ?? unitId} />
    </div>
  )
}

/** Unit settings (approval step, daily slots, fallback) for the units of the user's scope, picked from its tree. */
export function UnitSettingsPage({ query }: PageProps) {
  const session = useSession()
  const d = useData(() => get<{ units: Unit[] }>('/api/units'), [])
  if (!d.data || !session) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const tree = unitTree(d.data.units)
  const unitId = query.get('unit') ?? session.user.scopeUnitId ?? tree[0]?.unit.id ?? ''
  const unit = d.data.units.find((u) => u.id === unitId)
  return (
    <section data-testid="units-page">
      <h1>{ta('units.title')}</h1>
      <div class="field">
        <label for="unit-pick">{ta('units.pick')}</label>
        <select
          id="unit-pick"
          name="unit"
          value={unitId}
          onChange={(e) => setQuery('unit', e.currentTarget.value)}
        >
          {tree.map((u) => (
            <option key={u.unit.id} value={u.unit.id}>
              {treeLabel(u)}
            </option>
          ))}
        </select>
      </div>
      {/* An id outside the scope is asked for anyway: the API's 404 shows as "not found". */}
      {unitId ? <UnitSettingsCard key={unitId} unit={unit} unitId={unitId} /> : null}
    </section>
  )
}
