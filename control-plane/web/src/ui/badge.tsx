import { t } from '../common.i18n'

export type ClusterState = 'online' | 'offline' | 'playing' | 'fault'

/** A cluster's state, by colour and word (never colour alone). */
export function StatusBadge({ state }: { state: ClusterState }) {
  return (
    <span class={`badge badge-${state}`} data-state={state}>
      {t(`state.${state}`)}
    </span>
  )
}

/** Any short label with a tone. */
export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'muted'; children: string }) {
  return <span class={`badge tone-${tone}`}>{children}</span>
}
