/**
 * One CSV cell (RFC 4180 quoting) for every export: the audit log and the reports. Text starting with = + - @ tab
 * or CR is defused with a leading apostrophe so a spreadsheet does not run it as a formula; numbers are numbers.
 */
export function csvCell(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : ''
  let s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}
