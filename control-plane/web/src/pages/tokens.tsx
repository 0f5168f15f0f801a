import { useState } from 'preact/hooks'
import { api, get, post } from '../api'
import { formatAgo, formatDateTime } from '../i18n'
import { useSession } from '../session'
import type { ApiToken, Unit } from '../types'
import { Badge } from '../ui/badge'
import { Button } from '../ui/button'
import { SecretOnce } from '../ui/secret-once'
import { ErrorBox, Loading } from '../ui/states'
import { Table } from '../ui/table'
import { toast } from '../ui/toast'
import { ConfirmAction } from '../ui/use-action'
import { useData } from '../ui/use-data'
import { roleText } from './access-fields'
import { ta } from './admin.i18n'
import { TokenForm, type TokenValues } from './token-form'
import type { PageProps } from './types'
import { administersWholeTree } from './unit-tree'

type TokenRow = ApiToken

async function load() {
  const [{ tokens }, { units }, { users }] = await Promise.all([
    get<{ tokens: TokenRow[] }>('/api/tokens'),
    get<{ units: Unit[] }>('/api/units'),
    // Only for "created by": a creator outside the admin's scope shows as its id.
    get<{ users: { id: string; username: string }[] }>('/api/users'),
  ])
  // Newest first; revoked ones stay listed (when, and by whom it was made, still matter).
  tokens.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  return { tokens, units, userNames: new Map(users.map((u) => [u.id, u.username])) }
}

/** API tokens of the admin's scope (permission admin-users): list, create (secret shown once), revoke. */
export function TokensPage(_: PageProps) {
  const session = useSession()
  const d = useData(load, [])
  const [creating, setCreating] = useState(false)
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null)
  const [revoking, setRevoking] = useState<TokenRow | null>(null)
  if (!d.data || !session) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const { tokens, units, userNames } = d.data
  const wholeTree = administersWholeTree(session.user, units)
  const unitName = (id: string | null) =>
    id === null ? ta('wholeTree') : (units.find((u) => u.id === id)?.name ?? id)

  const create = async (v: TokenValues) => {
    const made = await post<TokenRow & { secret: string }>('/api/tokens', v)
    setCreating(false)
    setSecret({ name: made.name, value: made.secret })
    d.reload()
  }

  return (
    <section data-testid="tokens-page">
      <h1>{ta('tokens.title')}</h1>
      <p class="muted">{ta('tokens.help')}</p>
      {secret ? (
        <SecretOnce
          title={ta('tokens.secretTitle', { name: secret.name })}
          secret={secret.value}
          testId="token-secret"
          onDone={() => setSecret(null)}
        >
          <p>{ta('tokens.secretHelp')}</p>
        </SecretOnce>
      ) : null}
      {creating ? (
        <div class="card">
          <h2>{ta('tokens.new')}</h2>
          <TokenForm
            initial={{
              name: '',
              role: 'viewer',
              scopeUnitId: session.user.scopeUnitId ?? units[0]?.id ?? null,
            }}
            units={units}
            wholeTree={wholeTree}
            onSubmit={create}
            onCancel={() => setCreating(false)}
          />
        </div>
      ) : (
        <Button kind="primary" onClick={() => setCreating(true)} data-testid="add-token">
          {ta('tokens.new')}
        </Button>
      )}
      <div class="section">
        <Table<TokenRow>
          testId="tokens"
          rows={tokens}
          rowKey={(x) => x.id}
          columns={[
            { key: 'name', label: ta('tokens.name'), render: (x) => x.name },
            { key: 'role', label: ta('tokens.role'), render: (x) => roleText(x.role) },
            { key: 'scope', label: ta('tokens.scope'), render: (x) => unitName(x.scopeUnitId) },
            {
              key: 'by',
              label: ta('tokens.createdBy'),
              wide: true,
              render: (x) => (x.createdBy ? (userNames.get(x.createdBy) ?? x.createdBy) : '—'),
            },
            {
              key: 'at',
              label: ta('tokens.createdAt'),
              wide: true,
              render: (x) => formatDateTime(x.createdAt),
            },
            { key: 'used', label: ta('tokens.lastUsed'), render: (x) => formatAgo(x.lastUsedAt) },
            {
              key: 'state',
              label: ta('tokens.state'),
              render: (x) =>
                x.revokedAt ? (
                  <Badge tone="bad">{ta('tokens.revoked', { at: formatDateTime(x.revokedAt) })}</Badge>
                ) : (
                  <Badge tone="ok">{ta('tokens.active')}</Badge>
                ),
            },
            {
              key: 'revoke',
              label: '',
              render: (x) =>
                x.revokedAt ? null : (
                  <Button kind="link" onClick={() => setRevoking(x)} data-testid="revoke-token">
                    {ta('tokens.revoke')}
                  </Button>
                ),
            },
          ]}
        />
      </div>
      {revoking ? (
        <ConfirmAction
          title={ta('tokens.revokeTitle', { name: revoking.name })}
          text={ta('tokens.revokeText')}
          confirmLabel={ta('tokens.revoke')}
          action={async () => {
            await api('DELETE', `/api/tokens/${encodeURIComponent(revoking.id)}`)
            toast(ta('tokens.revokedToast', { name: revoking.name }), 'success')
            d.reload()
          }}
          onClose={() => setRevoking(null)}
        />
      ) : null}
    </section>
  )
}
