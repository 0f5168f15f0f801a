import { lang } from '../i18n'

/** Audit action codes in words; an action not listed is shown as its code (the API may add actions). */
const ACTIONS: Record<string, [vi: string, en: string]> = {
  'auth.login': ['Đăng nhập', 'Logged in'],
  'auth.logout': ['Đăng xuất', 'Logged out'],
  'auth.password': ['Đổi mật khẩu', 'Changed password'],
  'auth.lockout': ['Khóa tạm do nhập sai', 'Locked after failures'],
  'user.create': ['Tạo người dùng', 'Created a user'],
  'user.update': ['Sửa người dùng', 'Changed a user'],
  'token.create': ['Tạo mã API', 'Created an API token'],
  'token.revoke': ['Thu hồi mã API', 'Revoked an API token'],
  'audit.export': ['Xuất nhật ký', 'Exported the audit log'],
  'unit.create': ['Tạo đơn vị', 'Created a unit'],
  'unit.import': ['Nhập danh mục đơn vị', 'Imported units'],
  'station.create': ['Tạo đài', 'Created a station'],
  'cluster.create': ['Tạo cụm loa', 'Created a cluster'],
  'cluster.update': ['Sửa cụm loa', 'Changed a cluster'],
  'command.send': ['Gửi lệnh tới cụm loa', 'Sent a command'],
  'media.upload': ['Tải lên âm thanh', 'Uploaded audio'],
  'bulletin.create': ['Tạo bản tin', 'Created a bulletin'],
  'playlist.create': ['Tạo danh sách phát', 'Created a playlist'],
  'schedule.create': ['Lập lịch phát', 'Scheduled'],
  'schedule.delete': ['Hủy lịch phát', 'Cancelled a schedule'],
  'fallback.put': ['Đặt chương trình nền', 'Set the fallback programme'],
  'fallback.delete': ['Bỏ chương trình nền', 'Removed the fallback programme'],
  'alert.raise': ['Phát khẩn cấp', 'Raised an emergency'],
  'alert.revise': ['Sửa tin khẩn cấp', 'Revised an emergency'],
  'alert.cancel': ['Hủy tin khẩn cấp', 'Cancelled an emergency'],
  'cap.ingest': ['Nhận cảnh báo CAP', 'Received a CAP alert'],
  'live.start': ['Bắt đầu tiếp sóng', 'Started a live relay'],
  'live.stop': ['Dừng tiếp sóng', 'Stopped a live relay'],
  'relay.create': ['Lập lịch tiếp sóng', 'Scheduled a relay'],
  'relay.delete': ['Hủy lịch tiếp sóng', 'Removed a relay'],
  // Routes without an action name are logged as "METHOD /path" (the administration pages use these).
  'PUT /api/units/:id/settings': ['Đổi thiết lập đơn vị', 'Changed unit settings'],
  'POST /api/clusters/:id/credentials': ['Cấp mật khẩu thiết bị', 'Issued a device password'],
  'POST /api/clusters/:id/revoke': ['Thu hồi thiết bị', 'Revoked a device'],
  'POST /api/signing-keys/rotate': ['Đổi khóa ký lệnh', 'Rotated the signing key'],
}

export function actionText(action: string): string {
  const words = ACTIONS[action]
  return words ? words[lang() === 'vi' ? 0 : 1] : action
}
