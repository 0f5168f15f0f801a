import path from 'node:path'
import type { Command } from 'commander'
import { action, examples } from './command.js'
import { problemLines, readCsv } from './csv.js'
import { CliError, EXIT } from './exit.js'

type Col = 'code' | 'parentCode' | 'name' | 'kind'

/** Header names accepted in the CSV, Vietnamese and English. */
const COLUMNS = [
  {
    key: 'code' as Col,
    names: ['code', 'ma', 'mã', 'official_code', 'ma_don_vi', 'mã_đơn_vị'],
    required: true,
  },
  {
    key: 'parentCode' as Col,
    names: ['parent_code', 'parent', 'ma_cha', 'mã_cha', 'mã_đơn_vị_cha', 'ma_don_vi_cha'],
    required: true,
  },
  { key: 'name' as Col, names: ['name', 'ten', 'tên', 'ten_don_vi', 'tên_đơn_vị'], required: true },
  { key: 'kind' as Col, names: ['type', 'kind', 'loai', 'loại', 'cap', 'cấp'], required: true },
]

interface PlannedUnit {
  line: number
  id: string
  code: string
  name: string
  kind: string
  parentCode: string | null
}
interface ImportResult {
  dryRun: boolean
  created: PlannedUnit[]
  updated: (PlannedUnit & { changes: Record<string, { from: string | null; to: string | null }> })[]
  unchanged: number
}

const SHOWN = 200

function summary(r: ImportResult): string[] {
  const head = r.dryRun
    ? `Chạy thử — chưa ghi gì / dry run — nothing written: sẽ tạo / would create ${r.created.length}, ` +
      `sẽ sửa / would update ${r.updated.length}, không đổi / unchanged ${r.unchanged}`
    : `Đã nhập / imported: tạo / created ${r.created.length}, sửa / updated ${r.updated.length}, ` +
      `không đổi / unchanged ${r.unchanged}`
  const changes = [
    ...r.created.map((u) => `  + ${u.code} ${u.name} (${u.kind}${u.parentCode ? ` < ${u.parentCode}` : ''})`),
    ...r.updated.map(
      (u) =>
        `  ~ ${u.code} ${Object.entries(u.changes)
          .map(([k, c]) => `${k}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
          .join(', ')}`,
    ),
  ]
  // A province's villages are thousands of lines: a person reads the first ones, a script uses --json.
  const more = changes.length - SHOWN
  return [
    head,
    ...changes.slice(0, SHOWN),
    ...(more > 0 ? [`  … và ${more} thay đổi nữa / and ${more} more (--json: all of them)`] : []),
  ]
}

export function registerUnits(program: Command): void {
  const units = program
    .command('units')
    .description('Đơn vị hành chính / administrative units')
    .addHelpText('after', examples('loa units import don-vi.csv --dry-run', 'loa units list'))

  units
    .command('import')
    .description(
      'Nhập đơn vị từ CSV: tất cả hoặc không gì, nhập lại không đổi gì / import units from CSV: all or ' +
        'nothing, re-importing changes nothing',
    )
    .argument('<file>', 'tệp CSV có dòng tiêu đề / CSV file with a header line: code,parent_code,name,type')
    .option('--dry-run', 'chỉ cho biết sẽ thay đổi gì / only say what would change')
    .addHelpText(
      'after',
      `\nCột / columns: code (mã chính thức / official code), parent_code (trống cho tỉnh / empty for the\n` +
        `province), name (tên), type: province | district | commune | ward | town | village\n` +
        `(hoặc / or tỉnh, huyện, xã, phường, thị trấn, thôn …).\n` +
        examples(
          'loa units import don-vi.csv --dry-run',
          'loa units import don-vi.csv',
          'loa --json units import don-vi.csv',
        ),
    )
    .action(
      action(async (ctx, file: string, o: { dryRun?: boolean }) => {
        const { rows, problems } = readCsv(path.resolve(file), COLUMNS)
        if (problems.length > 0) {
          throw new CliError(
            'LOA_CLI_CSV_ROWS',
            [
              `${file}: ${problems.length} dòng lỗi, không nhập gì / bad rows, nothing imported`,
              ...problemLines(problems),
            ].join('\n'),
            EXIT.data,
            { problems },
          )
        }
        const body = { rows: rows.map((r) => ({ line: r.line, ...r.values })), dryRun: o.dryRun === true }
        let result: ImportResult
        try {
          result = await ctx.api().post<ImportResult>('/api/units/import', body)
        } catch (err) {
          const details = err instanceof CliError ? (err.details as { problems?: [] } | undefined) : undefined
          if (err instanceof CliError && details?.problems) {
            throw new CliError(
              err.code,
              [
                `${file}: ${details.problems.length} lỗi, không nhập gì / problems, nothing imported`,
                ...problemLines(details.problems),
              ].join('\n'),
              EXIT.data,
              details,
            )
          }
          throw err
        }
        ctx.out.result(result, () => summary(result))
      }),
    )

  units
    .command('list')
    .description('Liệt kê đơn vị / list units')
    .addHelpText('after', examples('loa units list', 'loa --json units list'))
    .action(
      action(async (ctx) => {
        const { units: list } = await ctx.api().get<{
          units: { id: string; code: string | null; name: string; kind: string; parentId: string | null }[]
        }>('/api/units')
        ctx.out.result({ units: list }, () =>
          list.map((u) => `${u.id}\t${u.code ?? '-'}\t${u.kind}\t${u.name}\t${u.parentId ?? '-'}`),
        )
      }),
    )
}
