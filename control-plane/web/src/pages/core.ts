import { AccountPage } from './account'
import { AuditPage } from './audit'
import { ClusterPage } from './cluster'
import { DashboardPage } from './dashboard'
import { LoginPage } from './login'
import { ReportsPage } from './reports'
import type { PageDef } from './types'
import { UsersPage } from './users'

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
  {
    path: '/reports',
    component: ReportsPage,
    navKey: 'reports',
    nav: { vi: 'Báo cáo', en: 'Reports', order: 70 },
    permission: 'read',
  },
  {
    path: '/users',
    component: UsersPage,
    navKey: 'users',
    nav: { vi: 'Người dùng', en: 'Users', order: 80 },
    permission: 'admin-users',
  },
  {
    path: '/audit',
    component: AuditPage,
    navKey: 'audit',
    nav: { vi: 'Nhật ký', en: 'Audit log', order: 90 },
    permission: 'audit',
  },
  {
    path: '/account',
    component: AccountPage,
    navKey: 'account',
    nav: { vi: 'Tài khoản', en: 'Account', order: 100 },
  },
]
