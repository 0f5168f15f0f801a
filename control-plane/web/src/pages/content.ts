import './content.css'
import { consoleConfig } from '../config'
import { BulletinsPage } from './bulletins'
import { CalendarPage } from './calendar'
import { setProvinceTimezone } from './content-format'
import { EmergencyPage } from './emergency'
import { InboxPage } from './inbox'
import { LivePage } from './live'
import { MediaPage } from './media'
import { TtsPage } from './tts'
import type { PageDef } from './types'

void consoleConfig().then((c) => setProvinceTimezone(c.timezone))

/** Content pages (media, text-to-speech, bulletins, inbox, calendar, live, emergency): owned by console2. */
export const contentPages: PageDef[] = [
  {
    // Not /media: that path serves the devices' downloads.
    path: '/audio',
    component: MediaPage,
    navKey: 'media',
    nav: { vi: 'Âm thanh', en: 'Media', order: 30 },
    permission: 'content',
  },
  {
    path: '/tts',
    component: TtsPage,
    navKey: 'tts',
    nav: { vi: 'Đọc văn bản', en: 'Text to speech', order: 35 },
    permission: 'content',
  },
  {
    path: '/bulletins',
    component: BulletinsPage,
    navKey: 'bulletins',
    nav: { vi: 'Bản tin', en: 'Bulletins', order: 40 },
    permission: 'read',
  },
  {
    path: '/inbox',
    component: InboxPage,
    navKey: 'inbox',
    nav: { vi: 'Hộp thư', en: 'Inbox', order: 45 },
    permission: 'content',
  },
  {
    path: '/calendar',
    component: CalendarPage,
    navKey: 'calendar',
    nav: { vi: 'Lịch phát', en: 'Schedule', order: 50 },
    permission: 'read',
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
