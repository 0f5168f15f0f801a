import { useEffect, useState } from 'preact/hooks'

/**
 * History routing: real paths (/clusters/c-1), so a link can be shared and reloaded (the control plane answers
 * index.html for any path outside /api). Any same-origin <a href="/…"> is handled here without a reload.
 */
export interface Route {
  path: string
  params: Record<string, string>
  query: URLSearchParams
}

const listeners = new Set<() => void>()

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return
  if (replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  for (const l of listeners) l()
}

function current(): Route {
  return { path: location.pathname, params: {}, query: new URLSearchParams(location.search) }
}

/** The current location; re-renders on navigation. */
export function useLocation(): Route {
  const [route, setRoute] = useState(current)
  useEffect(() => {
    const update = () => setRoute(current())
    listeners.add(update)
    window.addEventListener('popstate', update)
    return () => {
      listeners.delete(update)
      window.removeEventListener('popstate', update)
    }
  }, [])
  return route
}

/** '/clusters/:id' against '/clusters/c-1' → { id: 'c-1' }; null when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean)
  const a = path.split('/').filter(Boolean)
  if (p.length !== a.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < p.length; i++) {
    const seg = p[i] as string
    const actual = a[i] as string
    if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(actual)
    else if (seg !== actual) return null
  }
  return params
}

/** Intercepts clicks on local links (not new-tab clicks, downloads, or target=_blank). */
export function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    const a = (e.target as Element | null)?.closest?.('a')
    if (!a || a.target || a.hasAttribute('download')) return
    const href = a.getAttribute('href')
    if (!href?.startsWith('/') || href.startsWith('//') || href.startsWith('/api/')) return
    e.preventDefault()
    navigate(href)
  })
}

/** Replaces one query parameter, keeping the path (filters stay in the URL so a reload keeps them). */
export function setQuery(key: string, value: string | null): void {
  const q = new URLSearchParams(location.search)
  if (value === null || value === '') q.delete(key)
  else q.set(key, value)
  const s = q.toString()
  navigate(`${location.pathname}${s ? `?${s}` : ''}`, true)
}
