import { t } from '../common.i18n'
import type { Unit } from '../types'
import { Field } from '../ui/field'
import { ta } from './admin.i18n'
import { treeLabel, unitTree } from './unit-tree'

export const ROLES = ['province-admin', 'province-operator', 'commune-operator', 'viewer'] as const
export type Role = (typeof ROLES)[number]

export const roleText = (r: string): string => {
  const key = `role.${r.replace(/-/g, '_')}` as Parameters<typeof t>[0]
  const text = t(key)
  return text === key ? r : text
}

/** The role picker of a user or an API token. */
export function RoleField(p: { label: string; value: Role; onChange: (r: Role) => void }) {
  return (
    <Field label={p.label}>
      {(id) => (
        <select
          id={id}
          name="role"
          value={p.value}
          onChange={(e) => p.onChange(e.currentTarget.value as Role)}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {roleText(r)}
            </option>
          ))}
        </select>
      )}
    </Field>
  )
}

interface ScopeProps {
  label: string
  hint?: string
  value: string | null
  /** The units the admin may grant (the API's list is already its scope), shown as a tree. */
  units: Unit[]
  /** Offer "whole province" (value null): only to a whole-tree admin, the API refuses it to anyone else. */
  wholeTree: boolean
  onChange: (unitId: string | null) => void
}

/** The scope picker (a unit and its subtree) of a user or an API token. */
export function ScopeField(p: ScopeProps) {
  return (
    <Field label={p.label} hint={p.hint}>
      {(id) => (
        <select
          id={id}
          name="scopeUnitId"
          value={p.value ?? ''}
          onChange={(e) => p.onChange(e.currentTarget.value || null)}
        >
          {p.wholeTree ? <option value="">{ta('wholeTree')}</option> : null}
          {unitTree(p.units).map((u) => (
            <option key={u.unit.id} value={u.unit.id}>
              {treeLabel(u)}
            </option>
          ))}
        </select>
      )}
    </Field>
  )
}
