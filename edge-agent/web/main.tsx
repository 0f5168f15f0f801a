import { render } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { api } from './api.js'
import { Dashboard } from './dashboard.js'
import { clockFormat, errorText, initialLang, type Lang, type T, translate } from './i18n.js'

function Login(props: { t: T; configured: boolean; onIn: () => void }) {
  const { t } = props
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  if (!props.configured) {
    return (
      <section>
        <p class="error" id="no-password">
          {t('noPassword')}
        </p>
      </section>
    )
  }
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await api('POST', '/api/login', { password })
      props.onIn()
    } catch (err) {
      setError(errorText(t, err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section>
      <form onSubmit={submit}>
        <label for="password">{t('password')}</label>
        <input
          id="password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
        {error && (
          <p class="error" id="login-error" role="alert">
            {error}
          </p>
        )}
        <p>
          <button type="submit" disabled={busy}>
            {t('login')}
          </button>
        </p>
      </form>
    </section>
  )
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang())
  const [auth, setAuth] = useState<{ configured: boolean; loggedIn: boolean; deviceId: string } | null>(null)
  const t: T = useCallback((key, vars) => translate(lang, key, vars), [lang])
  const refresh = useCallback(() => {
    api<{ configured: boolean; loggedIn: boolean; deviceId: string }>('GET', '/api/auth')
      .then(setAuth)
      .catch(() => setAuth({ configured: true, loggedIn: false, deviceId: '' }))
  }, [])
  useEffect(refresh, [])
  useEffect(() => {
    clockFormat.lang = lang
    document.documentElement.lang = lang
    localStorage.setItem('loa.lang', lang)
  }, [lang])
  const logout = async () => {
    await api('POST', '/api/logout').catch(() => {})
    refresh()
  }
  return (
    <>
      <header>
        <h1>
          Loa · {t('title')} {auth?.deviceId ? `· ${auth.deviceId}` : ''}
        </h1>
        <div class="row">
          <button
            type="button"
            class="secondary"
            id="lang"
            onClick={() => setLang(lang === 'vi' ? 'en' : 'vi')}
          >
            {t('lang')}
          </button>
          {auth?.loggedIn && (
            <button type="button" class="secondary" id="logout" onClick={logout}>
              {t('logout')}
            </button>
          )}
        </div>
      </header>
      {auth && !auth.loggedIn && <Login t={t} configured={auth.configured} onIn={refresh} />}
      {auth?.loggedIn && <Dashboard t={t} onLoggedOut={refresh} />}
    </>
  )
}

const root = document.getElementById('app')
if (root) render(<App />, root)
