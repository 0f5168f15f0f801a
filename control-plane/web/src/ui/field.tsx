import type { ComponentChildren } from 'preact'
import { useId } from 'preact/hooks'

interface Props {
  label: string
  hint?: string
  error?: string | null
  /** Receives the id the label points to. */
  children: (id: string) => ComponentChildren
}

/** A labelled form field with an optional hint and error under it. */
export function Field({ label, hint, error, children }: Props) {
  const id = useId()
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      {children(id)}
      {hint && !error ? <small class="hint">{hint}</small> : null}
      {error ? (
        <small class="error" role="alert">
          {error}
        </small>
      ) : null}
    </div>
  )
}
