import path from 'node:path'
import type { Command } from 'commander'
import { action, examples } from './command.js'
import { CliError, EXIT, type ExitCode } from './exit.js'

const DATA_DIR_HELP =
  'thư mục dữ liệu của máy chủ điều khiển / the control plane data directory (LOA_DATA_DIR)'

/** Backup failures as `loa` exit codes (docs/cli.md). */
const EXIT_OF: Record<string, ExitCode> = {
  LOA_BACKUP_NO_DATABASE: EXIT.noInput,
  LOA_BACKUP_NOT_FOUND: EXIT.noInput,
  LOA_BACKUP_OUT_EXISTS: EXIT.cantCreate,
  LOA_BACKUP_TARGET_NOT_EMPTY: EXIT.cantCreate,
  LOA_BACKUP_CORRUPT: EXIT.data,
  LOA_BACKUP_NEWER_SCHEMA: EXIT.data,
  LOA_BACKUP_NEWER_FORMAT: EXIT.data,
}

/** Runs a backup function, turning its BackupError into the CLI's error with a stable code and exit code. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const e = err as Error & { code?: string }
    if (e.name === 'BackupError' && e.code) {
      throw new CliError(e.code, e.message, EXIT_OF[e.code] ?? EXIT.internal)
    }
    throw err
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description(
      'Sao lưu trực tuyến cơ sở dữ liệu, media, khoá và cấu hình khi hệ thống đang chạy / online backup of the ' +
        'database, media, keys and configuration while the system runs',
    )
    .requiredOption('--data-dir <dir>', DATA_DIR_HELP)
    .requiredOption(
      '--out <file-or-dir>',
      'tệp .tar, thư mục mới, hoặc thư mục có sẵn (ghi loa-backup-<thời điểm>.tar vào đó) / a .tar file, a new ' +
        'directory, or an existing directory (a loa-backup-<time>.tar is written into it)',
    )
    .addHelpText(
      'after',
      `\nTệp sao lưu chứa khoá bí mật: giữ nó như khoá / the archive holds private keys: keep it like one.\n${examples(
        'loa backup --data-dir /var/lib/loa --out /srv/sao-luu/',
        'loa --json backup --data-dir /var/lib/loa --out /srv/sao-luu/loa.tar',
      )}`,
    )
    .action(
      action(async (ctx, o: { dataDir: string; out: string }) => {
        // Loaded here only: the control plane's library is heavy and no other command needs it.
        const { createBackup } = await import('@loa/control-plane/cli')
        const r = await guarded(() => createBackup(path.resolve(o.dataDir), o.out))
        const m = r.manifest
        const doc = {
          archive: r.archive,
          kind: r.kind,
          createdAt: m.createdAt,
          schemaVersion: m.schemaVersion,
          files: m.files.length,
          bytes: r.bytes,
        }
        ctx.out.result(doc, () => [
          `Đã sao lưu / backed up: ${r.archive}`,
          `  ${m.files.length} tệp / files, ${mib(r.bytes)}, migration ${m.schemaVersion}, ${m.createdAt}`,
        ])
      }),
    )

  program
    .command('restore')
    .description(
      'Khôi phục bản sao lưu vào thư mục dữ liệu trống, sau khi kiểm tra toàn vẹn / restore a backup into an ' +
        'empty data directory, after verifying it',
    )
    .requiredOption('--from <archive>', 'tệp .tar hoặc thư mục sao lưu / the backup .tar or directory')
    .requiredOption('--data-dir <dir>', DATA_DIR_HELP)
    .option(
      '--force',
      'thư mục không trống: chuyển nội dung cũ sang <dir>.before-restore-<thời điểm> / a non-empty directory: ' +
        'move its content to <dir>.before-restore-<time>',
    )
    .addHelpText(
      'after',
      `\nDừng máy chủ điều khiển trước / stop the control plane first.\n${examples(
        'loa restore --from /srv/sao-luu/loa-backup-20250102T030405.678Z.tar --data-dir /var/lib/loa',
        'loa --json restore --from ./loa.tar --data-dir /var/lib/loa --force',
      )}`,
    )
    .action(
      action(async (ctx, o: { from: string; dataDir: string; force?: boolean }) => {
        const { restoreBackup } = await import('@loa/control-plane/cli')
        const r = await guarded(() =>
          restoreBackup(o.from, path.resolve(o.dataDir), { force: o.force === true }),
        )
        const doc = {
          dataDir: r.dataDir,
          createdAt: r.manifest.createdAt,
          schemaVersion: r.manifest.schemaVersion,
          files: r.manifest.files.length,
          previous: r.previous,
        }
        ctx.out.result(doc, () => [
          `Đã khôi phục / restored into ${r.dataDir}: ${r.manifest.files.length} tệp / files, ` +
            `sao lưu lúc / backed up at ${r.manifest.createdAt}`,
          ...(r.previous ? [`  Nội dung cũ / previous content: ${r.previous}`] : []),
          'Tiếp theo / next: khởi động máy chủ điều khiển / start the control plane',
        ])
      }),
    )
}
