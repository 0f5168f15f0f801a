import { lazyPage } from '../ui/lazy-page'
import type { PageDef } from './types'

/**
 * Administration pages for what otherwise needs the API or the `loa` command line (docs/console-admin.md). A
 * cluster's device credential is a section of the cluster page (cluster-credentials.tsx).
 */
export const adminPages: PageDef[] = [
  {
    path: '/units',
    component: lazyPage(() => import('./unit-settings').then((m) => m.UnitSettingsPage)),
    navKey: 'units',
    nav: { vi: 'Thiết lập đơn vị', en: 'Unit settings', order: 75 },
    permission: 'read',
  },
  {
    path: '/tokens',
    component: lazyPage(() => import('./tokens').then((m) => m.TokensPage)),
    navKey: 'tokens',
    nav: { vi: 'Mã API', en: 'API tokens', order: 82 },
    permission: 'admin-users',
  },
  {
    path: '/signing-keys',
    component: lazyPage(() => import('./signing-keys').then((m) => m.SigningKeysPage)),
    navKey: 'signing-keys',
    nav: { vi: 'Khóa ký lệnh', en: 'Signing keys', order: 85 },
    permission: 'admin-devices',
  },
]
