import type { Command } from 'commander'
import { action, examples } from './command.js'

interface Key {
  keyId: string
  publicKey: string
  createdAt: string
  retiredAt: string | null
  current: boolean
}

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('Khoá ký lệnh của máy chủ điều khiển / the control plane command-signing keys (Ed25519)')
    .addHelpText('after', examples('loa keys list', 'loa keys rotate'))
  keys
    .command('list')
    .description('Liệt kê khoá công khai / list public keys')
    .addHelpText('after', examples('loa keys list', 'loa --json keys list'))
    .action(
      action(async (ctx) => {
        const r = await ctx.api().get<{ current: string; keys: Key[] }>('/api/signing-keys')
        ctx.out.result(r, () =>
          r.keys.map(
            (k) =>
              `${k.current ? '*' : ' '} ${k.keyId}\t${k.createdAt}\t${k.retiredAt ? `retired ${k.retiredAt}` : ''}\t${k.publicKey}`,
          ),
        )
      }),
    )
  keys
    .command('rotate')
    .description(
      'Tạo khoá mới, báo cho các hộp bằng khoá cũ; không cần cấp lại / new key, announced under the old one; ' +
        'no re-provisioning',
    )
    .addHelpText('after', examples('loa keys rotate', 'loa --json keys rotate'))
    .action(
      action(async (ctx) => {
        const k = await ctx.api().post<Key>('/api/signing-keys/rotate')
        ctx.out.result(k, () => [
          `Khoá mới / new signing key: ${k.keyId}`,
          '  Các hộp nhận khoá mới qua trạng thái mong muốn / boxes learn it from their desired state.',
        ])
      }),
    )
}
