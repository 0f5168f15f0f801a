import { parse } from 'csv-parse/sync'
import { CliError, EXIT } from './exit.js'
import { readInput } from './files.js'

export interface CsvColumn<K extends string> {
  key: K
  /** Header names accepted for the column (compared lower-case, NFC, with spaces and dashes as "_"). */
  names: string[]
  required: boolean
}

export interface CsvRow<K extends string> {
  line: number
  values: Record<K, string>
}

export interface CsvProblem {
  line: number
  message: string
}

const headerKey = (s: string) =>
  s
    .normalize('NFC')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_')

/**
 * Reads a CSV file whose first line names its columns (any order, Vietnamese or English names, extra columns
 * ignored). Rows keep their line number in the file so every problem can be reported where the user will look.
 * Structural problems (unreadable file, bad quoting, missing columns) throw; per-row ones are returned.
 */
export function readCsv<K extends string>(
  file: string,
  columns: CsvColumn<K>[],
): { rows: CsvRow<K>[]; problems: CsvProblem[] } {
  const text = readInput(file)
  let records: { record: string[]; info: { lines: number } }[]
  try {
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as { record: string[]; info: { lines: number } }[]
  } catch (err) {
    const e = err as Error & { lines?: number }
    throw new CliError(
      'LOA_CLI_CSV_SYNTAX',
      `${file}: CSV hỏng / malformed CSV${e.lines ? ` (dòng/line ${e.lines})` : ''}: ${e.message}`,
      EXIT.data,
    )
  }
  const header = records[0]
  if (!header) throw new CliError('LOA_CLI_CSV_EMPTY', `${file}: tệp rỗng / the file is empty`, EXIT.data)
  const names = header.record.map(headerKey)
  const index = new Map<K, number>()
  const missing: string[] = []
  for (const c of columns) {
    const i = names.findIndex((n) => c.names.includes(n))
    if (i >= 0) index.set(c.key, i)
    else if (c.required) missing.push(`${c.names[0]}`)
  }
  if (missing.length > 0) {
    throw new CliError(
      'LOA_CLI_CSV_COLUMNS',
      `${file}: dòng/line 1: thiếu cột / missing column(s): ${missing.join(', ')} ` +
        `(cần / expected: ${columns.map((c) => c.names[0]).join(', ')})`,
      EXIT.data,
      { problems: [{ line: 1, message: `missing column(s): ${missing.join(', ')}` }] },
    )
  }
  const rows: CsvRow<K>[] = []
  const problems: CsvProblem[] = []
  for (const { record, info } of records.slice(1)) {
    if (record.length !== header.record.length) {
      problems.push({
        line: info.lines,
        message: `có ${record.length} cột, tiêu đề có ${header.record.length} / has ${record.length} fields, the header has ${header.record.length}`,
      })
      continue
    }
    const values = {} as Record<K, string>
    for (const c of columns) {
      const i = index.get(c.key)
      values[c.key] = i === undefined ? '' : (record[i] ?? '')
    }
    rows.push({ line: info.lines, values })
  }
  if (rows.length === 0 && problems.length === 0) {
    throw new CliError('LOA_CLI_CSV_EMPTY', `${file}: không có dòng dữ liệu / no data rows`, EXIT.data)
  }
  return { rows, problems }
}

/** "  dòng/line 4: message" lines for a problem list. */
export const problemLines = (problems: { line: number; message: string; field?: string }[]): string[] =>
  problems.map((p) => `  dòng/line ${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}`)
