import { useState } from 'preact/hooks'
import { errorText } from '../api'
import { t } from '../common.i18n'
import type { Unit } from '../types'
import { Button } from '../ui/button'
import { Field } from '../ui/field'
import { type Role, RoleField, ScopeField } from './access-fields'
import { tu } from './users.i18n'

export interface UserValues {
  username: string
  displayName: string
  role: Role
  scopeUnitId: string | null
  password: string
  disabled: boolean
}

interface Props {
  initial: UserValues
  units: Unit[]
  /** Offer "whole province" (only a whole-tree admin may grant it). */
  wholeTree: boolean
  /** Editing: the username is fixed and the password optional. */
  editing: boolean
  onSubmit: (v: UserValues) => Promise<void>
  onCancel?: () => void
}

/** Create or edit an operator: who, which role, over which part of the administrative tree. */
export function UserForm({ initial, units, wholeTree, editing, onSubmit, onCancel }: Props) {
  const [v, setV] = useState(initial)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const set = <K extends keyof UserValues>(k: K, value: UserValues[K]) => setV((o) => ({ ...o, [k]: value }))
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await onSubmit(v)
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={submit} class="user-form" data-testid={editing ? 'edit-user' : 'new-user'}>
      <div class="grid">
        <Field label={tu('username')}>
          {(id) => (
            <input
              id={id}
              name="username"
              value={v.username}
              disabled={editing}
              autocapitalize="none"
              onInput={(e) => set('username', e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label={tu('displayName')}>
          {(id) => (
            <input
              id={id}
              name="displayName"
              value={v.displayName}
              onInput={(e) => set('displayName', e.currentTarget.value)}
            />
          )}
        </Field>
        <RoleField label={tu('role')} value={v.role} onChange={(r) => set('role', r)} />
        <ScopeField
          label={tu('scope')}
          value={v.scopeUnitId}
          units={units}
          wholeTree={wholeTree}
          onChange={(u) => set('scopeUnitId', u)}
        />
        <Field label={editing ? tu('newPassword') : tu('password')} hint={tu('passwordHint')}>
          {(id) => (
            <input
              id={id}
              name="password"
              type="password"
              autocomplete="new-password"
              value={v.password}
              onInput={(e) => set('password', e.currentTarget.value)}
            />
          )}
        </Field>
      </div>
      {editing ? (
        <label class="check">
          <input
            type="checkbox"
            name="disabled"
            checked={v.disabled}
            onChange={(e) => set('disabled', e.currentTarget.checked)}
          />{' '}
          {tu('disable')}
        </label>
      ) : null}
      {error ? (
        <p class="error-box" role="alert">
          {error}
        </p>
      ) : null}
      <div class="row">
        <Button kind="primary" type="submit" busy={busy}>
          {editing ? t('save') : t('create')}
        </Button>
        {onCancel ? <Button onClick={onCancel}>{t('cancel')}</Button> : null}
      </div>
    </form>
  )
}
