import { useState } from 'preact/hooks'
import { errorText } from '../api'
import { lang, setLang } from '../i18n'
import { login } from '../session'
import { Button } from '../ui/button'
import { Field } from '../ui/field'
import { tl } from './login.i18n'
import type { PageProps } from './types'

export function LoginPage(_: PageProps) {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const submit = async (e: Event) => {
    e.preventDefault()
    if (!username.trim() || !password) {
      setError(tl('required'))
      return
    }
    setBusy(true)
    setError(null)
    try {
      await login(username.trim(), password)
    } catch (err) {
      setError(errorText(err))
      setPassword('')
    } finally {
      setBusy(false)
    }
  }

  return (
    <div class="login">
      <form class="card login-card" onSubmit={submit} noValidate>
        <h1>Loa</h1>
        <p class="muted">{tl('subtitle')}</p>
        <Field label={tl('username')}>
          {(id) => (
            <input
              id={id}
              name="username"
              autocomplete="username"
              autocapitalize="none"
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label={tl('password')}>
          {(id) => (
            <input
              id={id}
              name="password"
              type="password"
              autocomplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          )}
        </Field>
        {error ? (
          <p class="error-box" role="alert" data-testid="login-error">
            {error}
          </p>
        ) : null}
        <Button kind="primary" type="submit" busy={busy}>
          {tl('submit')}
        </Button>
        <button type="button" class="btn btn-link" onClick={() => setLang(lang() === 'vi' ? 'en' : 'vi')}>
          {lang() === 'vi' ? 'English' : 'Tiếng Việt'}
        </button>
      </form>
    </div>
  )
}
