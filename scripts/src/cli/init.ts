import fs from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { action, examples } from './command.js'
import { CliError, EXIT, usageError } from './exit.js'
import { profilePath, writeProfile } from './profile.js'
import { generatePassword, promptHidden } from './secret-prompt.js'

const CODE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/
const USER_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$/

interface InitOptions {
  dataDir: string
  provinceCode: string
  provinceName: string
  admin: string
  adminPassword?: string
  generatePassword?: boolean
}

/** The admin password: the flag, a hidden prompt on a terminal, or generated (and shown once). */
async function adminPassword(o: InitOptions): Promise<{ password: string; generated: boolean }> {
  if (o.adminPassword !== undefined) return { password: o.adminPassword, generated: false }
  if (o.generatePassword || !process.stdin.isTTY) return { password: generatePassword(), generated: true }
  const a = await promptHidden('Mật khẩu quản trị / admin password: ')
  const b = await promptHidden('Nhập lại / again: ')
  if (a !== b) throw usageError('Hai mật khẩu khác nhau / the passwords differ')
  return { password: a, generated: false }
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'Tạo tỉnh và quản trị viên đầu tiên trên thư mục dữ liệu, một mã API cho CLI và hồ sơ; chỉ một lần / ' +
        'create the province and its first administrator on the data directory, an API token for the CLI and ' +
        'the profile; once only',
    )
    .requiredOption(
      '--data-dir <dir>',
      'thư mục dữ liệu của máy chủ điều khiển / the control plane data directory (LOA_DATA_DIR)',
    )
    .requiredOption(
      '--province-code <code>',
      'mã tỉnh chính thức / official province code (becomes the unit id)',
    )
    .requiredOption('--province-name <name>', 'tên tỉnh / province name')
    .requiredOption('--admin <username>', 'tên đăng nhập quản trị / administrator username')
    .option(
      '--admin-password <password>',
      'mật khẩu (lộ trong lịch sử shell) / password (visible in shell history)',
    )
    .option('--generate-password', 'tạo mật khẩu ngẫu nhiên, hiện một lần / generate one, shown once')
    .addHelpText(
      'after',
      `\nAPI cho hồ sơ / API for the profile: --api, LOA_API_URL, default http://127.0.0.1:8080.\n${examples(
        'loa init --data-dir /var/lib/loa --province-code 45 --province-name "Quảng Trị" --admin admin',
        'loa --api https://loa.quangtri.gov.vn init --data-dir /var/lib/loa --province-code 45 --province-name "Quảng Trị" --admin admin --generate-password',
      )}`,
    )
    .action(
      action(async (ctx, o: InitOptions) => {
        const code = o.provinceCode.trim()
        if (!CODE_RE.test(code)) throw usageError('--province-code: chữ, số, _ . - / letters, digits, _ . -')
        if (!USER_RE.test(o.admin)) throw usageError('--admin: 2–64 chữ, số, _ . - / letters, digits, _ . -')
        const name = o.provinceName.normalize('NFC').trim()
        if (!name) throw usageError('--province-name: trống / empty')
        const dataDir = path.resolve(o.dataDir)
        if (!fs.existsSync(dataDir)) fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
        const file = profilePath(ctx.globals.profile)
        if (fs.existsSync(file)) {
          throw new CliError(
            'LOA_CLI_ALREADY_INITIALISED',
            `Hồ sơ đã có / a profile already exists: ${file} (--profile FILE để dùng tệp khác / to use another)`,
            EXIT.cantCreate,
          )
        }
        const apiUrl = (ctx.globals.api ?? process.env.LOA_API_URL ?? 'http://127.0.0.1:8080').replace(
          /\/+$/,
          '',
        )
        const { password, generated } = await adminPassword(o)
        // Loaded here only: the control plane's library is heavy and no other command needs it.
        const { initDataDir } = await import('@loa/control-plane/cli')
        let result: Awaited<ReturnType<typeof initDataDir>>
        try {
          result = await initDataDir(dataDir, {
            province: { id: code, name, code },
            username: o.admin,
            password,
            tokenName: `loa CLI (${o.admin}, init)`,
          })
        } catch (err) {
          const e = err as Error & { code?: string }
          if (e.code === 'LOA_CONFLICT') {
            throw new CliError(
              'LOA_CLI_ALREADY_INITIALISED',
              `Đã khởi tạo rồi, không làm lại / already initialised, not done again: ${e.message}`,
              EXIT.cantCreate,
            )
          }
          if (e.code === 'LOA_VALIDATION') throw new CliError(e.code, e.message, EXIT.usage)
          throw err
        }
        const token = result.token as string
        writeProfile(file, {
          apiUrl,
          token,
          tokenId: token.split('_')[1],
          province: { id: result.unit.id, code, name: result.unit.name },
          admin: result.user.username,
          createdAt: new Date().toISOString(),
        })
        const doc = {
          dataDir,
          province: { id: result.unit.id, name: result.unit.name, created: result.unitCreated },
          admin: { id: result.user.id, username: result.user.username, role: result.user.role },
          profile: file,
          apiUrl,
          ...(generated ? { adminPassword: password } : {}),
        }
        ctx.out.result(doc, () => [
          `Đã tạo tỉnh / province ${result.unitCreated ? 'created' : 'kept'}: ${result.unit.name} (${result.unit.id})`,
          `Quản trị viên / administrator: ${result.user.username}`,
          ...(generated ? [`  Mật khẩu (chỉ hiện một lần) / password (shown once): ${password}`] : []),
          `Hồ sơ CLI với mã API / CLI profile with an API token (0600): ${file}`,
          `Tiếp theo / next: loa units import don-vi.csv --dry-run`,
        ])
      }),
    )
}
