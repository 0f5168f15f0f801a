import { useState } from 'preact/hooks'
import { t } from '../common.i18n'
import type { Unit } from '../types'
import { Button } from '../ui/button'
import { Field } from '../ui/field'
import { ActionError, useAction } from '../ui/use-action'
import type { Role } from './access-fields'
import { RoleField, ScopeField } from './access-fields'
import { ta } from './admin.i18n'

export interface TokenValues {
  name: string
  role: Role
  scopeUnitId: string | null
}

interface Props {
  initial: TokenValues
  /** The units the admin may grant (the API's list is already its scope). */
  units: Unit[]
  /** Offer "whole province" (only to a whole-tree admin: the API refuses it to anyone else). */
  wholeTree: boolean
  onSubmit: (v: TokenValues) => Promise<void>
  onCancel: () => void
}

/** A new API token: what it is for, its role, and the part of the tree it may act on. */
export function TokenForm({ initial, units, wholeTree, onSubmit, onCancel }: Props) {
  const [v, setV] = useState(initial)
  const [nameError, setNameError] = useState<string | null>(null)
  const action = useAction(onSubmit)
  const submit = (e: Event) => {
    e.preventDefault()
    if (!v.name.trim()) {
      setNameError(ta('tokens.nameRequired'))
      return
    }
    setNameError(null)
    void action.run({ ...v, name: v.name.trim() })
  }
  return (
    <form onSubmit={submit} data-testid="new-token">
      <div class="grid">
        <Field label={ta('tokens.name')} error={nameError}>
          {(id) => (
            <input
              id={id}
              name="name"
              maxLength={100}
              value={v.name}
              onInput={(e) => setV({ ...v, name: e.currentTarget.value })}
            />
          )}
        </Field>
        <RoleField label={ta('tokens.role')} value={v.role} onChange={(role) => setV({ ...v, role })} />
        <ScopeField
          label={ta('tokens.scope')}
          hint={wholeTree ? undefined : ta('tokens.scopeHint')}
          value={v.scopeUnitId}
          units={units}
          wholeTree={wholeTree}
          onChange={(scopeUnitId) => setV({ ...v, scopeUnitId })}
        />
      </div>
      <ActionError error={action.error} />
      <div class="row">
        <Button kind="primary" type="submit" busy={action.busy}>
          {t('create')}
        </Button>
        <Button onClick={onCancel}>{t('cancel')}</Button>
      </div>
    </form>
  )
}
