import './content.css'
import { EmergencyPage } from './emergency'
import { LivePage } from './live'
import { MediaPage } from './media'
import type { PageDef } from './types'

/** Content pages (media, text-to-speech, bulletins, calendar, live, emergency): owned by console2. */
export const contentPages: PageDef[] = [
  {
    path: '/audio',
    component: MediaPage,
    navKey: 'media',
    nav: { vi: 'Âm thanh', en: 'Media', order: 30 },
    permission: 'content',
  },
  {
    path: '/live',
    component: LivePage,
    navKey: 'live',
    nav: { vi: 'Tiếp sóng', en: 'Live relay', order: 55 },
    permission: 'live',
  },
  {
    path: '/emergency',
    component: EmergencyPage,
    navKey: 'emergency',
    nav: { vi: 'Khẩn cấp', en: 'Emergency', order: 60 },
    permission: 'emergency',
  },
]
