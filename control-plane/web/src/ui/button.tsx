import type { ButtonHTMLAttributes, ComponentChildren } from 'preact'

type Props = Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'class'> & {
  kind?: 'primary' | 'secondary' | 'danger' | 'link'
  busy?: boolean
  children: ComponentChildren
}

/** A button that shows it is working and cannot be pressed twice meanwhile. */
export function Button({
  kind = 'secondary',
  busy = false,
  disabled,
  type = 'button',
  children,
  ...rest
}: Props) {
  return (
    <button
      {...rest}
      type={type}
      class={`btn btn-${kind}${busy ? ' busy' : ''}`}
      disabled={Boolean(disabled) || busy}
      aria-busy={busy}
    >
      {children}
    </button>
  )
}
