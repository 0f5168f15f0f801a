import { ClusterPage } from './cluster'
import { DashboardPage } from './dashboard'
import { LoginPage } from './login'
import type { PageDef } from './types'

/** The console's own pages (shell, monitoring, reports, administration). Content pages live in content.ts. */
export const corePages: PageDef[] = [
  { path: '/login', component: LoginPage, navKey: null, public: true },
  {
    path: '/',
    component: DashboardPage,
    navKey: 'dashboard',
    nav: { vi: 'Tổng quan', en: 'Dashboard', order: 10 },
  },
  { path: '/clusters/:id', component: ClusterPage, navKey: 'dashboard', permission: 'read' },
]
