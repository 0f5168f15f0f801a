import { lazyPage } from '../ui/lazy-page'
import { LoginPage } from './login'
import type { PageDef } from './types'

/**
 * The console's own pages (shell, monitoring, reports, administration). Content pages live in content.ts. Every
 * page but the login is its own chunk (lazyPage), so the first visit downloads only the shell.
 */
export const corePages: PageDef[] = [
  { path: '/login', component: LoginPage, navKey: null, public: true },
  {
    path: '/',
    component: lazyPage(() => import('./dashboard').then((m) => m.DashboardPage)),
    navKey: 'dashboard',
    nav: { vi: 'Tổng quan', en: 'Dashboard', order: 10 },
  },
  {
    path: '/clusters/:id',
    component: lazyPage(() => import('./cluster').then((m) => m.ClusterPage)),
    navKey: 'dashboard',
    permission: 'read',
  },
  {
    path: '/reports',
    component: lazyPage(() => import('./reports').then((m) => m.ReportsPage)),
    navKey: 'reports',
    nav: { vi: 'Báo cáo', en: 'Reports', order: 70 },
    permission: 'read',
  },
  {
    path: '/users',
    component: lazyPage(() => import('./users').then((m) => m.UsersPage)),
    navKey: 'users',
    nav: { vi: 'Người dùng', en: 'Users', order: 80 },
    permission: 'admin-users',
  },
  {
    path: '/audit',
    component: lazyPage(() => import('./audit').then((m) => m.AuditPage)),
    navKey: 'audit',
    nav: { vi: 'Nhật ký', en: 'Audit log', order: 90 },
    permission: 'audit',
  },
  {
    path: '/account',
    component: lazyPage(() => import('./account').then((m) => m.AccountPage)),
    navKey: 'account',
    nav: { vi: 'Tài khoản', en: 'Account', order: 100 },
  },
]
