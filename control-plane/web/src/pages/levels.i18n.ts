import { defineMessages } from '../i18n'

/** Circular 39 bulletin levels, shared by the content pages. */
export const tLevel = defineMessages({
  vi: { normal: 'Thông thường', priority: 'Ưu tiên', emergency: 'Khẩn cấp' },
  en: { normal: 'Normal', priority: 'Priority', emergency: 'Emergency' },
})
