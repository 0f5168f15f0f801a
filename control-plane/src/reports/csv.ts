import { csvCell } from './csv-cell.js'
import type { Report, ReportFigures } from './reports.js'

/** Column headers in Vietnamese, as the ministry's tables name them. */
const COLUMNS: ReadonlyArray<readonly [string, (f: ReportFigures) => string | number | null]> = [
  ['Đơn vị', (f) => f.name],
  ['Mã đơn vị', (f) => f.unitId],
  ['Số cụm loa', (f) => f.clusters],
  ['Số bản tin', (f) => f.bulletins],
  ['Số lượt phát', (f) => f.plays],
  ['Số lượt phát thành công', (f) => f.successfulPlays],
  ['Số lượt phát lỗi', (f) => f.failedPlays],
  ['Số bản tin khẩn cấp', (f) => f.emergencyBulletins],
  ['Số phút đã phát', (f) => f.minutesPlayed],
  ['Số phút yêu cầu', (f) => f.minutesRequested],
  ['Tỷ lệ phát (%)', (f) => (f.playedRatio === null ? null : Math.round(f.playedRatio * 1000) / 10)],
  ['Tỷ lệ trực tuyến (%)', (f) => f.availabilityPct],
]

/** UTF-8 with a BOM (so Excel reads the Vietnamese), CRLF line ends, one row per commune and a total row. */
export function reportCsv(r: Report): string {
  const lines = [COLUMNS.map(([h]) => csvCell(h)).join(',')]
  for (const row of r.rows) lines.push(COLUMNS.map(([, f]) => csvCell(f(row))).join(','))
  lines.push(COLUMNS.map(([, f], i) => csvCell(i === 0 ? 'Tổng cộng' : f(r.totals))).join(','))
  return `\uFEFF${lines.join('\r\n')}\r\n`
}
