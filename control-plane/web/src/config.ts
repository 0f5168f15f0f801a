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

/** Adds a stylesheet once (lazily loaded libraries bring their own). */
export function injectCss(id: string, css: string): void {
  if (document.getElementById(id)) return
  const style = document.createElement('style')
  style.id = id
  style.textContent = css
  document.head.appendChild(style)
}
