import { useState } from 'preact/hooks'
import { get, post } from '../api'
import { formatDateTime } from '../i18n'
import { useSession } from '../session'
import type { SigningKeyInfo, Unit } from '../types'
import { Badge } from '../ui/badge'
import { Button } from '../ui/button'
import { ErrorBox, Loading } from '../ui/states'
import { Table } from '../ui/table'
import { toast } from '../ui/toast'
import { ConfirmAction } from '../ui/use-action'
import { useData } from '../ui/use-data'
import { ta } from './admin.i18n'
import type { PageProps } from './types'
import { administersWholeTree } from './unit-tree'

type SigningKey = SigningKeyInfo

async function load() {
  const [keys, { units }] = await Promise.all([
    get<{ current: string; keys: SigningKey[] }>('/api/signing-keys'),
    get<{ units: Unit[] }>('/api/units'),
  ])
  return { keys: [...keys.keys].sort((a, b) => b.createdAt.localeCompare(a.createdAt)), units }
}

/** The control plane's command signing keys (permission admin-devices); a whole-tree admin rotates them. */
export function SigningKeysPage(_: PageProps) {
  const session = useSession()
  const d = useData(load, [])
  const [asking, setAsking] = useState(false)
  if (!d.data || !session) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const wholeTree = administersWholeTree(session.user, d.data.units)
  return (
    <section data-testid="keys-page">
      <h1>{ta('keys.title')}</h1>
      <p class="muted">{ta('keys.help')}</p>
      {wholeTree ? (
        <Button kind="danger" onClick={() => setAsking(true)} data-testid="rotate-key">
          {ta('keys.rotate')}
        </Button>
      ) : (
        <p class="muted">{ta('keys.wholeTreeOnly')}</p>
      )}
      <div class="section">
        <Table<SigningKey>
          testId="keys"
          rows={d.data.keys}
          rowKey={(k) => k.keyId}
          columns={[
            {
              key: 'id',
              label: ta('keys.keyId'),
              render: (k) => (
                <>
                  <code>{k.keyId}</code> {k.current ? <Badge tone="ok">{ta('keys.current')}</Badge> : null}
                </>
              ),
            },
            { key: 'created', label: ta('keys.createdAt'), render: (k) => formatDateTime(k.createdAt) },
            { key: 'retired', label: ta('keys.retiredAt'), render: (k) => formatDateTime(k.retiredAt) },
            {
              key: 'public',
              label: ta('keys.publicKey'),
              wide: true,
              render: (k) => <code>{k.publicKey}</code>,
            },
          ]}
        />
      </div>
      {asking ? (
        <ConfirmAction
          title={ta('keys.rotateTitle')}
          text={ta('keys.rotateText')}
          confirmLabel={ta('keys.rotate')}
          action={async () => {
            const key = await post<SigningKey>('/api/signing-keys/rotate')
            toast(ta('keys.rotated', { keyId: key.keyId }), 'success')
            d.reload()
          }}
          onClose={() => setAsking(false)}
        />
      ) : null}
    </section>
  )
}
