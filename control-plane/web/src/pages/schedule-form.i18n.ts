import { defineMessages } from '../i18n'

const vi = {
  heading: 'Lên lịch phát',
  bulletin: 'Bản tin',
  chooseBulletin: '— chọn bản tin —',
  target: 'Phát tới',
  unit: 'Đơn vị',
  cluster: 'Cụm loa',
  date: 'Ngày',
  time: 'Giờ',
  repeat: 'Lặp lại',
  once: 'Một lần',
  weekly: 'Hằng tuần',
  days: 'Các ngày',
  submit: 'Lên lịch',
  created: 'Đã lên lịch',
  plays: 'Đã phát trên',
  clusters: 'cụm loa',
  past: 'Thời điểm này đã qua.',
  missing: 'Hãy chọn bản tin và nơi phát.',
}
export const tSchedule = defineMessages({
  vi,
  en: {
    heading: 'Schedule a broadcast',
    bulletin: 'Bulletin',
    chooseBulletin: '— choose a bulletin —',
    target: 'Play on',
    unit: 'Unit',
    cluster: 'Cluster',
    date: 'Date',
    time: 'Time',
    repeat: 'Repeat',
    once: 'Once',
    weekly: 'Weekly',
    days: 'Days',
    submit: 'Schedule',
    created: 'Scheduled',
    plays: 'Played on',
    clusters: 'clusters',
    past: 'That time has already passed.',
    missing: 'Choose a bulletin and where to play it.',
  },
})

/** ISO weekdays 1–7, short names. */
export const weekdayText = {
  vi: ['T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'CN'],
  en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
}
