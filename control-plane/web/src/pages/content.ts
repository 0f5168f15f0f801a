import './content.css'
import { consoleConfig } from '../config'
import { lazyPage } from '../ui/lazy-page'
import { setProvinceTimezone } from './content-format'
import type { PageDef } from './types'

void consoleConfig().then((c) => setProvinceTimezone(c.timezone))

/** Content pages (media, text-to-speech, bulletins, inbox, calendar, live, emergency): owned by console2. */
export const contentPages: PageDef[] = [
  {
    // Not /media: that path serves the devices' downloads.
    path: '/audio',
    component: lazyPage(() => import('./media').then((m) => m.MediaPage)),
    navKey: 'media',
    nav: { vi: 'Âm thanh', en: 'Media', order: 30 },
    permission: 'content',
  },
  {
    path: '/tts',
    component: lazyPage(() => import('./tts').then((m) => m.TtsPage)),
    navKey: 'tts',
    nav: { vi: 'Đọc văn bản', en: 'Text to speech', order: 35 },
    permission: 'content',
  },
  {
    path: '/bulletins',
    component: lazyPage(() => import('./bulletins').then((m) => m.BulletinsPage)),
    navKey: 'bulletins',
    nav: { vi: 'Bản tin', en: 'Bulletins', order: 40 },
    permission: 'read',
  },
  {
    path: '/inbox',
    component: lazyPage(() => import('./inbox').then((m) => m.InboxPage)),
    navKey: 'inbox',
    nav: { vi: 'Hộp thư', en: 'Inbox', order: 45 },
    permission: 'content',
  },
  {
    path: '/calendar',
    component: lazyPage(() => import('./calendar').then((m) => m.CalendarPage)),
    navKey: 'calendar',
    nav: { vi: 'Lịch phát', en: 'Schedule', order: 50 },
    permission: 'read',
  },
  {
    path: '/live',
    component: lazyPage(() => import('./live').then((m) => m.LivePage)),
    navKey: 'live',
    nav: { vi: 'Tiếp sóng', en: 'Live relay', order: 55 },
    permission: 'live',
  },
  {
    path: '/emergency',
    component: lazyPage(() => import('./emergency').then((m) => m.EmergencyPage)),
    navKey: 'emergency',
    nav: { vi: 'Khẩn cấp', en: 'Emergency', order: 60 },
    permission: 'emergency',
  },
]
