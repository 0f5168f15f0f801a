import { useEffect, useState } from 'preact/hooks'

/** Re-renders the component whenever one of `listeners` is called (small module-level stores). */
export function useListeners(listeners: Set<() => void>): void {
  const [, rerender] = useState(0)
  useEffect(() => {
    const l = () => rerender((n) => n + 1)
    listeners.add(l)
    return () => {
      listeners.delete(l)
    }
  }, [listeners])
}
