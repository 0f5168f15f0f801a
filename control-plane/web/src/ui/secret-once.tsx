import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { t } from '../common.i18n'
import { Button } from './button'

interface Props {
  title: string
  /** What the secret is for and what to do with it now. */
  children?: ComponentChildren
  secret: string
  testId: string
  onDone: () => void
}

/**
 * A secret the server shows once (an API token, a device password): a clear warning, the value, a copy button.
 * It lives only in this component's state: closing it or reloading the page loses it for good.
 */
export function SecretOnce({ title, children, secret, testId, onDone }: Props) {
  const [copied, setCopied] = useState<boolean | null>(null)
  const copy = () => {
    // The clipboard API needs a secure context (https or localhost); elsewhere the operator selects the text.
    navigator.clipboard?.writeText(secret).then(
      () => setCopied(true),
      () => setCopied(false),
    ) ?? setCopied(false)
  }
  return (
    <section class="card secret-once" aria-label={title} data-testid={`${testId}-box`}>
      <h2>{title}</h2>
      <p class="error-box" role="alert">
        {t('secretOnceWarning')}
      </p>
      {children}
      <p>
        <code data-testid={testId} class="secret">
          {secret}
        </code>
      </p>
      <div class="row">
        <Button onClick={copy} data-testid={`${testId}-copy`}>
          {copied ? t('copied') : t('copy')}
        </Button>
        <Button kind="primary" onClick={onDone} data-testid={`${testId}-done`}>
          {t('secretSaved')}
        </Button>
      </div>
      {copied === false ? <p class="muted">{t('copyFailed')}</p> : null}
    </section>
  )
}
