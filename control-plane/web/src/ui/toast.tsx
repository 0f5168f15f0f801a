import { useListeners } from './use-listeners'

interface ToastItem {
  id: number
  text: string
  kind: 'info' | 'error' | 'success'
}

let items: ToastItem[] = []
let nextId = 1
const listeners = new Set<() => void>()
const emit = () => {
  for (const l of listeners) l()
}

/** A short message at the bottom of the screen; errors stay longer. */
export function toast(text: string, kind: ToastItem['kind'] = 'info'): void {
  const item = { id: nextId++, text, kind }
  items = [...items, item]
  emit()
  setTimeout(
    () => {
      items = items.filter((i) => i.id !== item.id)
      emit()
    },
    kind === 'error' ? 8000 : 4000,
  )
}

export function Toasts() {
  useListeners(listeners)
  return (
    <div class="toasts" aria-live="polite">
      {items.map((i) => (
        <div key={i.id} class={`toast toast-${i.kind}`} role={i.kind === 'error' ? 'alert' : 'status'}>
          {i.text}
        </div>
      ))}
    </div>
  )
}
