/** Public settings of this installation (GET /console-config.json, readable before login). */
export interface ConsoleConfig {
  /** Map tile URL template; null on an offline network: the map is drawn on a plain background. */
  mapTileUrl: string | null
  mapTileAttribution: string
  timezone: string
}

let pending: Promise<ConsoleConfig> | null = null

export function consoleConfig(): Promise<ConsoleConfig> {
  pending ??= fetch('/console-config.json')
    .then((r) => (r.ok ? (r.json() as Promise<ConsoleConfig>) : Promise.reject(new Error(r.statusText))))
    .catch(() => ({ mapTileUrl: null, mapTileAttribution: '', timezone: 'Asia/Ho_Chi_Minh' }))
  return pending
}

/**
 * Links a stylesheet once (lazily loaded libraries bring their own) and resolves when it has loaded. A <link> to
 * a file of ours, never a <style> element: the Content-Security-Policy refuses inline styles.
 */
export function loadCss(id: string, href: string): Promise<void> {
  const known = document.getElementById(id) as HTMLLinkElement | null
  if (known) return loaded.get(known) ?? Promise.resolve()
  const link = document.createElement('link')
  link.id = id
  link.rel = 'stylesheet'
  link.href = href
  const done = new Promise<void>((resolve) => {
    // A stylesheet that fails to load leaves the map or chart unstyled, not missing.
    link.onload = link.onerror = () => resolve()
  })
  loaded.set(link, done)
  document.head.appendChild(link)
  return done
}
const loaded = new WeakMap<HTMLLinkElement, Promise<void>>()
