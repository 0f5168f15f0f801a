import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import { t } from '../common.i18n'
import { Button } from './button'

interface Props {
  title: string
  children?: ComponentChildren
  confirmLabel?: string
  danger?: boolean
  busy?: boolean
  /** When false the confirm button stays disabled (e.g. until the operator types a word). */
  canConfirm?: boolean
  onConfirm: () => void
  onCancel: () => void
}

/** A modal question (the native <dialog>, so focus and Escape behave as the platform does). */
export function ConfirmDialog(p: Props) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (d && !d.open) d.showModal()
    return () => d?.close()
  }, [])
  return (
    <dialog
      ref={ref}
      class="dialog"
      onCancel={(e) => {
        e.preventDefault()
        p.onCancel()
      }}
    >
      <h2>{p.title}</h2>
      <div class="dialog-body">{p.children}</div>
      <div class="dialog-actions">
        <Button onClick={p.onCancel} disabled={p.busy}>
          {t('cancel')}
        </Button>
        <Button
          kind={p.danger ? 'danger' : 'primary'}
          busy={p.busy}
          disabled={p.canConfirm === false}
          onClick={p.onConfirm}
          data-testid="confirm"
        >
          {p.confirmLabel ?? t('confirm')}
        </Button>
      </div>
    </dialog>
  )
}
