import { ApiError, errorText } from '../api'
import { t } from '../common.i18n'
import { Button } from './button'

export function Loading() {
  return (
    <p class="loading" aria-busy="true">
      {t('loading')}
    </p>
  )
}

export function NotFound() {
  return (
    <section class="page-message" data-testid="not-found">
      <h1>{t('notFoundTitle')}</h1>
      <p>{t('notFoundText')}</p>
      <a href="/">{t('goHome')}</a>
    </section>
  )
}

export function Forbidden() {
  return (
    <section class="page-message" data-testid="forbidden">
      <h1>{t('forbiddenTitle')}</h1>
      <p>{t('forbiddenText')}</p>
      <a href="/">{t('goHome')}</a>
    </section>
  )
}

/** An error in place of a page's content: 404 and 403 become the not-found / forbidden pages. */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (error instanceof ApiError && error.status === 404) return <NotFound />
  if (error instanceof ApiError && error.status === 403) return <Forbidden />
  return (
    <div class="error-box" role="alert">
      <p>{errorText(error)}</p>
      {onRetry ? <Button onClick={onRetry}>{t('retry')}</Button> : null}
    </div>
  )
}
