import type { ComponentChildren } from 'preact'
import { t } from '../common.i18n'

export interface Column<T> {
  key: string
  label: string
  render: (row: T) => ComponentChildren
  /** Right-aligned numbers. */
  numeric?: boolean
  /** Hidden on a phone-sized screen. */
  wide?: boolean
}

interface Props<T> {
  columns: Column<T>[]
  rows: T[]
  rowKey: (row: T) => string
  empty?: string
  caption?: string
  testId?: string
}

/** A plain table that scrolls inside its own box on a narrow screen instead of widening the page. */
export function Table<T>({ columns, rows, rowKey, empty, caption, testId }: Props<T>) {
  const cls = (c: Column<T>) => [c.numeric ? 'num' : '', c.wide ? 'wide' : ''].join(' ').trim() || undefined
  return (
    <div class="table-wrap">
      <table data-testid={testId}>
        {caption ? <caption>{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} class={cls(c)} scope="col">
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} class="empty">
                {empty ?? t('none')}
              </td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr key={rowKey(r)} data-key={rowKey(r)}>
                {columns.map((c) => (
                  <td key={c.key} class={cls(c)} data-col={c.key}>
                    {c.render(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  )
}
