import { ApiError } from './api.js'

export type Lang = 'vi' | 'en'

const vi = {
  title: 'Trang kỹ thuật',
  lang: 'English',
  password: 'Mật khẩu kỹ thuật',
  login: 'Đăng nhập',
  logout: 'Đăng xuất',
  noPassword:
    'Thiết bị này chưa có mật khẩu kỹ thuật nên không thể đăng nhập. Đặt technician.passwordHash trong tệp cấu hình (loa-cli tạo được) hoặc biến LOA_TECHNICIAN_PASSWORD_HASH, rồi khởi động lại dịch vụ loa-agent.',
  LOA_LOCAL_WRONG_PASSWORD: 'Sai mật khẩu. Vui lòng thử lại.',
  LOA_LOCAL_LOCKED: 'Nhập sai quá nhiều lần. Thử lại sau {s} giây.',
  LOA_LOCAL_NO_PASSWORD: 'Thiết bị chưa có mật khẩu kỹ thuật.',
  LOA_LOCAL_UNAUTHORIZED: 'Phiên đăng nhập đã hết. Vui lòng đăng nhập lại.',
  LOA_LOCAL_AUDIO_INVALID: 'Tệp âm thanh không dùng được (hỏng hoặc không phải âm thanh).',
  LOA_LOCAL_TOO_LARGE: 'Tệp quá lớn.',
  LOA_AGENT_ZONE_UNKNOWN: 'Không có vùng loa này.',
  network_error: 'Không kết nối được với thiết bị.',
  LOA_LOCAL_BUSY: 'Đang có quá nhiều thao tác chờ. Đợi một lát rồi thử lại.',
  LOA_LOCAL_TIMEOUT: 'Tệp gửi lên quá chậm nên bị ngắt. Kiểm tra kết nối rồi thử lại.',
  LOA_LOCAL_BAD_REQUEST: 'Yêu cầu không hợp lệ.',
  LOA_LOCAL_FORBIDDEN: 'Yêu cầu từ trang khác bị từ chối.',
  LOA_LOCAL_NOT_FOUND: 'Không tìm thấy thao tác này.',
  LOA_INTERNAL: 'Lỗi bên trong thiết bị. Xem nhật ký.',
  status: 'Trạng thái',
  province: 'Kết nối tỉnh',
  connected: 'Đã kết nối',
  disconnected: 'Mất kết nối',
  lastContact: 'Liên lạc gần nhất',
  signal: 'Sóng 4G',
  noModem: 'không có số liệu modem',
  clock: 'Đồng hồ',
  unknown: 'không rõ',
  clock_synced: 'đã đồng bộ NTP',
  clock_unsynced: 'chưa đồng bộ NTP (có thể sai)',
  clock_unknown: 'không rõ đã đồng bộ chưa',
  clock_trusted: 'tin cậy (cấu hình)',
  'clock_behind-signed-time': 'chậm hơn giờ tỉnh đã ký: dùng giờ tỉnh',
  clockOffset: 'lệch so với giờ đã ký {s} giây',
  clockJump: 'lần nhảy gần nhất {d} giây lúc {at}',
  disk: 'Bộ nhớ trống',
  cpuTemp: 'Nhiệt độ CPU',
  underVoltage: 'thiếu điện áp',
  version: 'Phiên bản',
  nowPlaying: 'Đang phát',
  nothing: 'không có',
  today: 'Lịch hôm nay',
  media: 'Tệp đã lưu',
  zones: 'Vùng loa',
  relay: 'Rơ-le',
  on: 'BẬT',
  off: 'TẮT',
  testTone: 'Thử tiếng',
  relayOn: 'Bật loa',
  relayOff: 'Tắt loa',
  seconds: 'giây',
  autoOff: 'Tự tắt sau',
  volume: 'Âm lượng',
  setVolume: 'Đặt',
  announcement: 'Thông báo tại chỗ',
  announcementHint: 'Phát dưới mức khẩn cấp: cảnh báo khẩn cấp từ tỉnh luôn được ưu tiên.',
  chooseFile: 'Chọn tệp âm thanh',
  upload: 'Phát tệp',
  record: 'Ghi âm',
  stopRecord: 'Dừng và phát',
  recording: 'Đang ghi âm…',
  noMic: 'Trình duyệt không cho ghi âm (cần HTTPS hoặc quyền micro).',
  activity: 'Hoạt động gần đây',
  plays: 'Lượt phát',
  logs: 'Nhật ký',
  networkSettings: 'Mạng (chỉ xem)',
  cancel: 'Dừng',
  s_queued: 'đang chờ',
  s_playing: 'đang chạy',
  s_done: 'xong',
  s_failed: 'lỗi',
  s_preempted: 'bị ngắt bởi ưu tiên cao hơn',
  s_cancelled: 'đã dừng',
  s_expired: 'hết hạn',
  k_tone: 'Thử tiếng',
  k_relay: 'Bật loa',
  k_announcement: 'Thông báo',
}
export type Key = keyof typeof vi

const en: Record<Key, string> = {
  title: 'Technician page',
  lang: 'Tiếng Việt',
  password: 'Technician password',
  login: 'Log in',
  logout: 'Log out',
  noPassword:
    'This box has no technician password, so nobody can log in. Set technician.passwordHash in the config file (loa-cli makes one) or LOA_TECHNICIAN_PASSWORD_HASH, then restart the loa-agent service.',
  LOA_LOCAL_WRONG_PASSWORD: 'Wrong password. Please try again.',
  LOA_LOCAL_LOCKED: 'Too many wrong passwords. Try again in {s} seconds.',
  LOA_LOCAL_NO_PASSWORD: 'This box has no technician password.',
  LOA_LOCAL_UNAUTHORIZED: 'Your session has ended. Please log in again.',
  LOA_LOCAL_AUDIO_INVALID: 'The audio file cannot be used (broken or not audio).',
  LOA_LOCAL_TOO_LARGE: 'The file is too large.',
  LOA_AGENT_ZONE_UNKNOWN: 'No such zone.',
  network_error: 'Cannot reach the box.',
  LOA_LOCAL_BUSY: 'Too many actions are waiting. Wait a moment and try again.',
  LOA_LOCAL_TIMEOUT: 'The upload arrived too slowly and was cut. Check the connection and try again.',
  LOA_LOCAL_BAD_REQUEST: 'The request is not valid.',
  LOA_LOCAL_FORBIDDEN: 'Request from another site refused.',
  LOA_LOCAL_NOT_FOUND: 'No such action.',
  LOA_INTERNAL: 'Internal error on the box. See the logs.',
  status: 'Status',
  province: 'Province link',
  connected: 'Connected',
  disconnected: 'Disconnected',
  lastContact: 'Last contact',
  signal: '4G signal',
  noModem: 'no modem data',
  clock: 'Clock',
  unknown: 'unknown',
  clock_synced: 'NTP synchronised',
  clock_unsynced: 'not NTP synchronised (may be wrong)',
  clock_unknown: 'synchronisation unknown',
  clock_trusted: 'trusted (configured)',
  'clock_behind-signed-time': "behind the province's signed time: using that",
  clockOffset: '{s} s from the signed time',
  clockJump: 'last jump {d} s at {at}',
  disk: 'Free disk',
  cpuTemp: 'CPU temperature',
  underVoltage: 'under-voltage',
  version: 'Version',
  nowPlaying: 'Playing now',
  nothing: 'nothing',
  today: "Today's schedule",
  media: 'Cached media',
  zones: 'Zones',
  relay: 'Relay',
  on: 'ON',
  off: 'OFF',
  testTone: 'Test tone',
  relayOn: 'Switch on',
  relayOff: 'Switch off',
  seconds: 's',
  autoOff: 'Auto-off after',
  volume: 'Volume',
  setVolume: 'Set',
  announcement: 'Local announcement',
  announcementHint: 'Plays below emergencies: an emergency from the province always takes over.',
  chooseFile: 'Choose an audio file',
  upload: 'Play file',
  record: 'Record',
  stopRecord: 'Stop and play',
  recording: 'Recording…',
  noMic: 'The browser cannot record here (needs HTTPS or microphone permission).',
  activity: 'Recent activity',
  plays: 'Plays',
  logs: 'Logs',
  networkSettings: 'Network (read-only)',
  cancel: 'Stop',
  s_queued: 'waiting',
  s_playing: 'running',
  s_done: 'done',
  s_failed: 'failed',
  s_preempted: 'preempted by a higher band',
  s_cancelled: 'stopped',
  s_expired: 'expired',
  k_tone: 'Test tone',
  k_relay: 'Relay on',
  k_announcement: 'Announcement',
}

export const texts: Record<Lang, Record<Key, string>> = { vi, en }

export function initialLang(): Lang {
  return localStorage.getItem('loa.lang') === 'en' ? 'en' : 'vi'
}

export function translate(lang: Lang, key: string, vars: Record<string, string | number> = {}): string {
  const t = (texts[lang] as Record<string, string>)[key] ?? key
  return t.replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? ''))
}

export type T = (key: string, vars?: Record<string, string | number>) => string

/** The message for a failed call, in the page's language. */
export function errorText(t: T, err: unknown): string {
  if (err instanceof ApiError) {
    const s = err.extra.retryAfterS
    return t(err.code, { s: typeof s === 'number' ? s : '' })
  }
  return t('network_error')
}

/** How times are shown: in the page's language and the box's time zone (not the phone's). */
export const clockFormat: { lang: Lang; timeZone: string | undefined } = { lang: 'vi', timeZone: undefined }

export function timeText(iso: string | null, withDate = false): string {
  if (!iso) return '–'
  const opts: Intl.DateTimeFormatOptions = { timeZone: clockFormat.timeZone, hour12: false }
  const locale = clockFormat.lang === 'vi' ? 'vi-VN' : 'en-GB'
  try {
    const d = new Date(iso)
    return withDate ? d.toLocaleString(locale, opts) : d.toLocaleTimeString(locale, opts)
  } catch {
    return iso
  }
}
