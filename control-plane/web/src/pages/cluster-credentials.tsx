import { useState } from 'preact/hooks'
import { get, post } from '../api'
import { formatDateTime } from '../i18n'
import type { CredentialStatus, IssuedCredentials } from '../types'
import { Badge } from '../ui/badge'
import { Button } from '../ui/button'
import { SecretOnce } from '../ui/secret-once'
import { ErrorBox, Loading } from '../ui/states'
import { toast } from '../ui/toast'
import { ConfirmAction } from '../ui/use-action'
import { useData } from '../ui/use-data'
import { ta } from './admin.i18n'

function StateBadge({ s }: { s: CredentialStatus }) {
  if (s.state === 'active') return <Badge tone="ok">{ta('cred.active')}</Badge>
  if (s.state === 'revoked')
    return <Badge tone="bad">{ta('cred.revoked', { at: formatDateTime(s.revokedAt) })}</Badge>
  return <Badge tone="muted">{ta('cred.none')}</Badge>
}

/**
 * A cluster's MQTT credential, for administrators (admin-devices): its state, issue or rotate (the new password
 * shown once, as `loa devices rotate` prints it), revoke. Both ask first, naming the cluster.
 */
export function ClusterCredentials({ clusterId, name }: { clusterId: string; name: string }) {
  const path = `/api/clusters/${encodeURIComponent(clusterId)}`
  // `connected` is there when the control plane runs the broker's authentication itself.
  const d = useData(() => get<CredentialStatus & { connected?: boolean }>(`${path}/credentials`), [clusterId])
  const [asking, setAsking] = useState<'rotate' | 'revoke' | null>(null)
  const [issued, setIssued] = useState<IssuedCredentials | null>(null)
  const act = async (what: 'rotate' | 'revoke') => {
    if (what === 'rotate') setIssued(await post<IssuedCredentials>(`${path}/credentials`))
    else {
      await post(`${path}/revoke`)
      setIssued(null)
      toast(ta('cred.revokedToast', { name }), 'success')
    }
    d.reload()
  }
  if (!d.data) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading />
  const s = d.data
  return (
    <div class="card section" data-testid="credentials" data-state={s.state}>
      <h2>{ta('cred.title')}</h2>
      <dl class="kv">
        <dt>{ta('cred.state')}</dt>
        <dd>
          <StateBadge s={s} />
        </dd>
        <dt>{ta('cred.username')}</dt>
        <dd>
          <code>{s.username}</code>
        </dd>
        <dt>{ta('cred.generation')}</dt>
        <dd data-testid="cred-generation">{s.generation}</dd>
        <dt>{ta('cred.issuedAt')}</dt>
        <dd>{formatDateTime(s.issuedAt)}</dd>
        {s.connected === undefined ? null : (
          <>
            <dt>{ta('cred.connected')}</dt>
            <dd>{s.connected ? '✓' : '—'}</dd>
          </>
        )}
      </dl>
      {issued ? (
        <SecretOnce
          title={ta('cred.secretTitle', { name })}
          secret={issued.password}
          testId="device-password"
          onDone={() => setIssued(null)}
        >
          <p>{ta('cred.secretHelp', { username: issued.username, id: clusterId })}</p>
        </SecretOnce>
      ) : null}
      <div class="row">
        <Button kind="primary" onClick={() => setAsking('rotate')} data-testid="rotate-credential">
          {s.state === 'none' ? ta('cred.issue') : ta('cred.rotate')}
        </Button>
        {s.state === 'active' ? (
          <Button kind="danger" onClick={() => setAsking('revoke')} data-testid="revoke-credential">
            {ta('cred.revoke')}
          </Button>
        ) : null}
      </div>
      {asking ? (
        <ConfirmAction
          title={ta(asking === 'rotate' ? 'cred.rotateTitle' : 'cred.revokeTitle', { name })}
          text={ta(asking === 'rotate' ? 'cred.rotateText' : 'cred.revokeText', { id: clusterId })}
          confirmLabel={asking === 'rotate' ? ta('cred.rotate') : ta('cred.revoke')}
          action={() => act(asking)}
          onClose={() => setAsking(null)}
        />
      ) : null}
    </div>
  )
}
