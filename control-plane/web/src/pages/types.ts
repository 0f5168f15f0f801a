import type { ComponentType } from 'preact'

export interface PageProps {
  /** `:name` segments of the page's path. */
  params: Record<string, string>
  query: URLSearchParams
}

/** One page of the console. Register it in pages/core.ts (console) or pages/content.ts (content pages). */
export interface PageDef {
  /** '/clusters/:id' */
  path: string
  component: ComponentType<PageProps>
  /** The nav entry highlighted on this page (a detail page points at its list); null for none. */
  navKey: string | null
  /** Present on pages that appear in the nav: label in both languages, and position (lower first). */
  nav?: { vi: string; en: string; order: number }
  /** A permission from GET /api/auth/me; without it the nav hides the page and the page says forbidden. */
  permission?: string
  /** Reachable without logging in (only the login page). */
  public?: boolean
}
