import { useState } from 'preact/hooks'
import { errorText, post } from '../api'
import { t } from '../common.i18n'
import { useSession } from '../session'
import { Button } from '../ui/button'
import { Field } from '../ui/field'
import { toast } from '../ui/toast'
import { roleText } from './access-fields'
import type { PageProps } from './types'
import { tu } from './users.i18n'

/** Every user: who am I, and change my password (other sessions of mine end). */
export function AccountPage(_: PageProps) {
  const session = useSession()
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  if (!session) return null
  const u = session.user
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await post('/api/auth/password', { currentPassword: current, newPassword: next })
      setCurrent('')
      setNext('')
      toast(tu('passwordChanged'), 'success')
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section>
      <h1>{u.displayName || u.username}</h1>
      <dl class="kv card">
        <dt>{tu('username')}</dt>
        <dd>{u.username}</dd>
        <dt>{tu('role')}</dt>
        <dd>{roleText(u.role)}</dd>
        <dt>{tu('scope')}</dt>
        <dd>{u.scopeUnitName ?? tu('wholeTree')}</dd>
      </dl>
      <h2>{tu('myPassword')}</h2>
      <form class="card" onSubmit={submit}>
        <Field label={tu('currentPassword')}>
          {(id) => (
            <input
              id={id}
              type="password"
              autocomplete="current-password"
              value={current}
              onInput={(e) => setCurrent(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label={tu('password')} hint={tu('passwordHint')}>
          {(id) => (
            <input
              id={id}
              type="password"
              autocomplete="new-password"
              value={next}
              onInput={(e) => setNext(e.currentTarget.value)}
            />
          )}
        </Field>
        {error ? (
          <p class="error-box" role="alert">
            {error}
          </p>
        ) : null}
        <Button kind="primary" type="submit" busy={busy}>
          {t('save')}
        </Button>
      </form>
    </section>
  )
}
