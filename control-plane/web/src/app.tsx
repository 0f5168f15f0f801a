import { useEffect, useState } from 'preact/hooks'
import { setUnauthorizedHandler } from './api'
import { t } from './common.i18n'
import { lang, onLangChange, setLang } from './i18n'
import { type PageDef, pages } from './pages/index'
import { LoginPage } from './pages/login'
import { matchPath, navigate, useLocation } from './router'
import { can, dropSession, loadSession, logout, type Session, useSession } from './session'
import { prefetchPages } from './ui/lazy-page'
import { ErrorBox, Forbidden, Loading, NotFound } from './ui/states'
import { Toasts } from './ui/toast'

setUnauthorizedHandler(dropSession)

function findPage(path: string): { page: PageDef; params: Record<string, string> } | null {
  for (const page of pages) {
    const params = matchPath(page.path, path)
    if (params) return { page, params }
  }
  return null
}

function roleLabel(role: string): string {
  const key = `role.${role.replace(/-/g, '_')}`
  const text = t(key as Parameters<typeof t>[0])
  return text === key ? role : text
}

function Header({ session, onMenu }: { session: Session; onMenu: () => void }) {
  const u = session.user
  return (
    <header class="top">
      <button type="button" class="menu-btn" onClick={onMenu} aria-label={t('menu')}>
        ☰
      </button>
      <a href="/" class="brand">
        Loa
      </a>
      <span class="scope" title={t('scope')} data-testid="scope">
        {u.scopeUnitName ?? u.scopeUnitId ?? ''}
      </span>
      <span class="spacer" />
      <span class="who" title={roleLabel(u.role)}>
        {u.displayName || u.username}
      </span>
      <button
        type="button"
        class="lang-btn"
        onClick={() => setLang(lang() === 'vi' ? 'en' : 'vi')}
        data-testid="lang-toggle"
      >
        {lang() === 'vi' ? 'EN' : 'VI'}
      </button>
      <button
        type="button"
        class="logout-btn"
        data-testid="logout"
        onClick={() => {
          void logout().then(() => navigate('/'))
        }}
      >
        {t('logout')}
      </button>
    </header>
  )
}

function Nav({ active, open, onPick }: { active: string | null; open: boolean; onPick: () => void }) {
  const items = pages
    .filter((p) => p.nav && can(p.permission))
    .sort((a, b) => (a.nav?.order ?? 0) - (b.nav?.order ?? 0))
  return (
    <nav class={`side${open ? ' open' : ''}`} aria-label={t('menu')}>
      <ul>
        {items.map((p) => (
          <li key={p.path}>
            <a
              href={p.path}
              class={p.navKey !== null && p.navKey === active ? 'active' : undefined}
              data-nav={p.navKey}
              onClick={onPick}
            >
              {p.nav?.[lang()]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  )
}

export function App() {
  const [, rerender] = useState(0)
  const [boot, setBoot] = useState<{ done: boolean; error?: unknown }>({ done: false })
  const [menuOpen, setMenuOpen] = useState(false)
  const route = useLocation()
  const session = useSession()
  const userId = session?.user.id

  useEffect(() => onLangChange(() => rerender((n) => n + 1)), [])
  useEffect(() => {
    document.documentElement.lang = lang()
    loadSession().then(
      () => setBoot({ done: true }),
      (error: unknown) => setBoot({ done: true, error }),
    )
  }, [])

  useEffect(() => {
    if (userId) prefetchPages()
  }, [userId])

  if (!boot.done) return <Loading />
  if (boot.error) return <ErrorBox error={boot.error} onRetry={() => location.reload()} />

  const found = findPage(route.path)
  if (!session) {
    // Whatever was asked for, log in first; the address stays, so the page opens right after.
    return (
      <>
        <LoginPage params={{}} query={route.query} />
        <Toasts />
      </>
    )
  }
  if (found?.page.public) {
    navigate(route.query.get('next') ?? '/', true)
    return null
  }
  let content = <NotFound />
  if (found) {
    const Page = found.page.component
    content = can(found.page.permission) ? (
      <Page key={route.path} params={found.params} query={route.query} />
    ) : (
      <Forbidden />
    )
  }
  return (
    <div class="shell">
      <Header session={session} onMenu={() => setMenuOpen((o) => !o)} />
      <div class="body">
        <Nav active={found?.page.navKey ?? null} open={menuOpen} onPick={() => setMenuOpen(false)} />
        <main>{content}</main>
      </div>
      <Toasts />
    </div>
  )
}
