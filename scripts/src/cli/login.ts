import readline from 'node:readline/promises'
import type { Command } from 'commander'
import { Api } from './api.js'
import { action, examples } from './command.js'
import { CliError, EXIT, usageError } from './exit.js'
import { profilePath, writeProfile } from './profile.js'

interface Me {
  user: { username: string } | null
  token?: { id: string; name: string; role: string; scopeUnitId: string | null }
  permissions: string[]
}

/** The token: --token, LOA_TOKEN, or one line on stdin (so it never appears in the shell history). */
async function readToken(flag: string | undefined): Promise<string> {
  const t = flag ?? process.env.LOA_TOKEN
  if (t && t !== '-') return t
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: false })
  if (process.stdin.isTTY) process.stderr.write('Mã API / API token: ')
  for await (const line of rl) {
    rl.close()
    if (line.trim()) return line.trim()
  }
  throw usageError(
    'Cần mã API: --token, LOA_TOKEN hoặc stdin / an API token is required: --token, LOA_TOKEN or stdin',
  )
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description(
      'Lưu địa chỉ máy chủ và mã API vào hồ sơ (0600) / save the API address and token in the profile (0600)',
    )
    .addHelpText(
      'after',
      examples(
        'loa --api https://loa.quangtri.gov.vn login --token loa_abc_…',
        'echo "$TOKEN" | loa --api https://loa.quangtri.gov.vn login',
      ),
    )
    .action(
      action(async (ctx) => {
        const apiUrl = ctx.globals.api ?? process.env.LOA_API_URL
        if (!apiUrl) throw usageError('Cần --api URL / --api URL is required')
        const token = await readToken(ctx.globals.token)
        const api = new Api({ apiUrl: apiUrl.replace(/\/+$/, ''), token })
        const me = await api.get<Me>('/api/auth/me')
        if (!me.token && !me.user)
          throw new CliError('LOA_CLI_AUTH', 'Mã không hợp lệ / token not accepted', EXIT.auth)
        const file = profilePath(ctx.globals.profile)
        writeProfile(file, {
          apiUrl: api.conn.apiUrl,
          token,
          ...(me.token ? { tokenId: me.token.id } : {}),
          createdAt: new Date().toISOString(),
        })
        ctx.out.result(
          { profile: file, apiUrl: api.conn.apiUrl, token: me.token ?? null, permissions: me.permissions },
          () => [
            `Đã lưu hồ sơ / profile saved: ${file}`,
            `  ${api.conn.apiUrl} — ${me.token ? `${me.token.name} (${me.token.role})` : me.user?.username}`,
          ],
        )
      }),
    )
}
