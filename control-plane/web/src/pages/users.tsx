import { useState } from 'preact/hooks'
import { api, get, post } from '../api'
import { t } from '../common.i18n'
import { formatDateTime } from '../i18n'
import { useSession } from '../session'
import type { Unit } from '../types'
import { Badge } from '../ui/badge'
import { Button } from '../ui/button'
import { ErrorBox, Loading } from '../ui/states'
import { Table } from '../ui/table'
import { toast } from '../ui/toast'
import { useData } from '../ui/use-data'
import { ROLES, type Role, roleText } from './access-fields'
import type { PageProps } from './types'
import { administersWholeTree } from './unit-tree'
import { UserForm, type UserValues } from './user-form'
import { tu } from './users.i18n'

interface UserRow {
  id: string
  username: string
  displayName: string
  role: Role
  scopeUnitId: string | null
  scopeUnitName: string | null
  disabled: boolean
  lockedUntil: string | null
  lastLoginAt: string | null
}

const EMPTY: UserValues = {
  username: '',
  displayName: '',
  role: 'commune-operator',
  scopeUnitId: null,
  password: '',
  disabled: false,
}

async function load() {
  const [{ users }, { units }] = await Promise.all([
    get<{ users: UserRow[] }>('/api/users'),
    get<{ units: Unit[] }>('/api/units'),
  ])
  return { users, units }
}

function stateBadge(u: UserRow) {
  if (u.disabled) return <Badge tone="bad">{tu('disabled')}</Badge>
  if (u.lockedUntil && Date.parse(u.lockedUntil) > Date.now()) {
    return <Badge tone="warn">{tu('locked', { until: formatDateTime(u.lockedUntil) })}</Badge>
  }
  return <Badge tone="ok">{tu('active')}</Badge>
}

/** Users admin (permission admin-users); the API limits it to the admin's own scope. */
export function UsersPage(_: PageProps) {
  const session = useSession()
  const d = useData(load, [])
  const [creating, setCreating] = useState(false)
  const [editing, setEditing] = useState<UserRow | null>(null)
  if (!d.data) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const { users, units } = d.data
  const wholeTree = session ? administersWholeTree(session.user, units) : false

  const create = async (v: UserValues) => {
    await post('/api/users', {
      username: v.username.trim(),
      displayName: v.displayName.trim() || v.username.trim(),
      role: v.role,
      scopeUnitId: v.scopeUnitId,
      password: v.password,
    })
    toast(tu('created', { name: v.username }), 'success')
    setCreating(false)
    d.reload()
  }
  const update = async (u: UserRow, v: UserValues) => {
    await api('PATCH', `/api/users/${encodeURIComponent(u.id)}`, {
      displayName: v.displayName.trim(),
      role: v.role,
      scopeUnitId: v.scopeUnitId,
      disabled: v.disabled,
      ...(v.password ? { password: v.password } : {}),
    })
    toast(tu('saved'), 'success')
    setEditing(null)
    d.reload()
  }

  return (
    <section data-testid="users-page">
      <h1>{tu('title')}</h1>
      {creating ? (
        <div class="card">
          <h2>{tu('newUser')}</h2>
          <UserForm
            initial={{ ...EMPTY, scopeUnitId: units[0]?.id ?? null }}
            units={units}
            wholeTree={wholeTree}
            editing={false}
            onSubmit={create}
            onCancel={() => setCreating(false)}
          />
        </div>
      ) : (
        <Button kind="primary" onClick={() => setCreating(true)} data-testid="add-user">
          {tu('newUser')}
        </Button>
      )}
      {editing ? (
        <div class="card section">
          <h2>{tu('editTitle', { name: editing.username })}</h2>
          <UserForm
            key={editing.id}
            initial={{ ...editing, password: '' }}
            units={units}
            wholeTree={wholeTree}
            editing
            onSubmit={(v) => update(editing, v)}
            onCancel={() => setEditing(null)}
          />
        </div>
      ) : null}
      <div class="section">
        <Table<UserRow>
          testId="users"
          rows={users}
          rowKey={(u) => u.id}
          columns={[
            { key: 'username', label: tu('username'), render: (u) => u.username },
            { key: 'name', label: tu('displayName'), wide: true, render: (u) => u.displayName },
            { key: 'role', label: tu('role'), render: (u) => roleText(u.role) },
            { key: 'scope', label: tu('scope'), render: (u) => u.scopeUnitName ?? tu('wholeTree') },
            { key: 'state', label: tu('state'), render: stateBadge },
            { key: 'last', label: tu('lastLogin'), wide: true, render: (u) => formatDateTime(u.lastLoginAt) },
            {
              key: 'edit',
              label: '',
              render: (u) => (
                <Button kind="link" onClick={() => setEditing(u)}>
                  {t('edit')}
                </Button>
              ),
            },
          ]}
        />
      </div>
      <h2>{tu('roles')}</h2>
      <dl class="kv card">
        {ROLES.flatMap((r) => [
          <dt key={`${r}-t`}>{roleText(r)}</dt>,
          <dd key={`${r}-d`}>{tu(`roleHelp.${r}`)}</dd>,
        ])}
      </dl>
    </section>
  )
}
