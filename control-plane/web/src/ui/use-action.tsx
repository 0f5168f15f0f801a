import { useState } from 'preact/hooks'
import { errorText } from '../api'
import { ConfirmDialog } from './confirm'

/** A button's or form's action: busy while it runs, its failure as a sentence in the current language. */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const run = async (...args: A): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      await fn(...args)
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  return { run, busy, error, clearError: () => setError(null) }
}

/** The action's error under a form or beside a button (nothing when there is none). */
export function ActionError({ error }: { error: string | null }) {
  return error ? (
    <p class="error-box" role="alert" data-testid="action-error">
      {error}
    </p>
  ) : null
}

interface ConfirmActionProps {
  title: string
  text: string
  confirmLabel: string
  /** Runs on confirmation; the dialog stays open with the error in words if it fails. */
  action: () => Promise<void>
  onClose: () => void
}

/** A destructive action behind a question: the dialog, the busy button, the API's refusal in words. */
export function ConfirmAction(p: ConfirmActionProps) {
  const a = useAction(async () => {
    await p.action()
    p.onClose()
  })
  return (
    <ConfirmDialog
      title={p.title}
      confirmLabel={p.confirmLabel}
      danger
      busy={a.busy}
      onConfirm={() => void a.run()}
      onCancel={p.onClose}
    >
      <p>{p.text}</p>
      <ActionError error={a.error} />
    </ConfirmDialog>
  )
}
