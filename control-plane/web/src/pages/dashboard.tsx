import type { PageProps } from './types'

export function DashboardPage(_: PageProps) {
  return <h1>Dashboard</h1>
}
