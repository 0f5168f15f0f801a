import { useCallback, useEffect, useRef, useState } from 'preact/hooks'

export interface Data<T> {
  data: T | undefined
  error: unknown
  loading: boolean
  reload: () => void
}

/**
 * Loads data for a page and reloads it when `deps` change or every `refreshMs` (dashboards). A refresh that fails
 * keeps the last good data on screen and shows the error beside it.
 */
export function useData<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number): Data<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  })
  const seq = useRef(0)
  const run = useCallback(() => {
    const mine = ++seq.current
    setState((s) => ({ ...s, loading: true }))
    load().then(
      (data) => {
        if (mine === seq.current) setState({ data, error: undefined, loading: false })
      },
      (error: unknown) => {
        if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }))
      },
    )
  }, deps)
  useEffect(() => {
    run()
    if (!refreshMs) return
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') run()
    }, refreshMs)
    return () => clearInterval(timer)
  }, [run, refreshMs])
  return { ...state, reload: run }
}
