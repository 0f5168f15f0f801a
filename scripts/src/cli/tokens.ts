import type { Command } from 'commander'
import { action, examples } from './command.js'
import { confirm } from './confirm.js'

interface Token {
  id: string
  name: string
  role: string
  scopeUnitId: string | null
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

const ROLES = 'province-admin | province-operator | commune-operator | viewer'

export function registerTokens(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('Mã API cho máy / API tokens for machine clients')
    .addHelpText(
      'after',
      examples('loa tokens create --name "CAP feed" --role province-operator', 'loa tokens list'),
    )
  tokens
    .command('create')
    .description('Tạo mã API; bí mật chỉ hiện một lần / create a token; the secret is shown once')
    .requiredOption('--name <name>', 'tên / name (what uses it)')
    .requiredOption('--role <role>', ROLES)
    .option('--scope <unit>', 'đơn vị gốc được phép / root unit of its scope (default: yours)')
    .addHelpText(
      'after',
      examples(
        'loa tokens create --name "CAP feed" --role province-operator',
        'loa --json tokens create --name "xa-gio-linh script" --role commune-operator --scope 19345',
      ),
    )
    .action(
      action(async (ctx, o: { name: string; role: string; scope?: string }) => {
        const t = await ctx.api().post<Token & { secret: string }>('/api/tokens', {
          name: o.name,
          role: o.role,
          ...(o.scope ? { scopeUnitId: o.scope } : {}),
        })
        ctx.out.result(t, () => [
          `Đã tạo mã / token created: ${t.id} (${t.role}, ${t.scopeUnitId ?? 'toàn bộ / everything'})`,
          `Bí mật (chỉ hiện một lần) / secret (shown once): ${t.secret}`,
        ])
      }),
    )
  tokens
    .command('list')
    .description('Liệt kê mã API (không có bí mật) / list tokens (never their secrets)')
    .addHelpText('after', examples('loa tokens list'))
    .action(
      action(async (ctx) => {
        const r = await ctx.api().get<{ tokens: Token[] }>('/api/tokens')
        ctx.out.result(r, () =>
          r.tokens.map(
            (t) =>
              `${t.revokedAt ? '✗' : '✓'} ${t.id}\t${t.role}\t${t.scopeUnitId ?? '-'}\t${t.lastUsedAt ?? 'chưa dùng/unused'}\t${t.name}`,
          ),
        )
      }),
    )
  tokens
    .command('revoke')
    .description('Thu hồi mã API / revoke a token')
    .argument('<id>', 'mã / token id')
    .option('--yes', 'không hỏi lại / do not ask')
    .addHelpText('after', examples('loa tokens revoke 3f9a2c --yes'))
    .action(
      action(async (ctx, id: string, o: { yes?: boolean }) => {
        if (!(await confirm(`Thu hồi mã / revoke token ${id}?`, o.yes))) return 1
        await ctx.api().delete(`/api/tokens/${encodeURIComponent(id)}`)
        ctx.out.result({ revoked: true, id }, () => `Đã thu hồi / revoked ${id}`)
      }),
    )
}
