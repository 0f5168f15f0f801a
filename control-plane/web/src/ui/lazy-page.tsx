import type { ComponentType } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import type { PageProps } from '../pages/types'
import { ErrorBox, Loading } from './states'

type Loader = () => Promise<ComponentType<PageProps>>

const loaders: (() => Promise<unknown>)[] = []

/**
 * A page whose code is a separate chunk, fetched the first time the page is shown (or by prefetchPages), so the
 * first visit downloads only the shell and the login page.
 *   component: lazyPage(() => import('./reports').then((m) => m.ReportsPage))
 */
export function lazyPage(load: Loader): ComponentType<PageProps> {
  let loaded: ComponentType<PageProps> | null = null
  let pending: Promise<ComponentType<PageProps>> | null = null
  const fetchPage = () => {
    pending ??= load().then(
      (c) => {
        loaded = c
        return c
      },
      (err: unknown) => {
        pending = null // a failed download (the network) may be retried
        throw err
      },
    )
    return pending
  }
  loaders.push(fetchPage)
  return function LazyPage(props: PageProps) {
    const [state, setState] = useState<{ error?: unknown; tick: number }>({ tick: 0 })
    useEffect(() => {
      if (loaded) return
      let live = true
      fetchPage().then(
        () => live && setState((s) => ({ tick: s.tick + 1 })),
        (error: unknown) => live && setState((s) => ({ error, tick: s.tick + 1 })),
      )
      return () => {
        live = false
      }
    }, [state.tick])
    if (loaded) {
      const Page = loaded
      return <Page {...props} />
    }
    if (state.error) {
      return <ErrorBox error={state.error} onRetry={() => setState((s) => ({ tick: s.tick + 1 }))} />
    }
    return <Loading />
  }
}

/** After login, when the browser is idle: fetch every page's chunk, so moving between pages is instant. */
export function prefetchPages(): void {
  const run = () => {
    for (const l of loaders) l().catch(() => {})
  }
  if ('requestIdleCallback' in window) window.requestIdleCallback(run, { timeout: 5000 })
  else setTimeout(run, 2000)
}
