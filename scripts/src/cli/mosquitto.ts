import path from 'node:path'
import type { Command } from 'commander'
import { action, examples } from './command.js'
import { writeSecret } from './files.js'

export function registerMosquitto(program: Command): void {
  const m = program
    .command('mosquitto')
    .description('Tệp cấu hình cho Mosquitto / files for an external Mosquitto broker')
    .addHelpText('after', examples('loa mosquitto export --out /etc/mosquitto'))
  m.command('export')
    .description(
      'Ghi tệp mật khẩu, ACL và đoạn cấu hình từ cơ sở dữ liệu / write the password file, ACL file and config ' +
        'snippet generated from the database',
    )
    .requiredOption('--out <dir>', 'thư mục ghi / output directory (e.g. /etc/mosquitto)')
    .addHelpText(
      'after',
      `\nTệp / files: loa.passwd (0600), loa.acl, loa.conf. Sau đó / then: kill -HUP $(pidof mosquitto)\n${examples(
        'loa mosquitto export --out /etc/mosquitto',
        'loa --json mosquitto export --out ./mosquitto',
      )}`,
    )
    .action(
      action(async (ctx, o: { out: string }) => {
        const files = await ctx
          .api()
          .get<{ passwordFile: string; aclFile: string; configSnippet: string }>('/api/broker/mosquitto')
        const out = path.resolve(o.out)
        const written = {
          passwordFile: path.join(out, 'loa.passwd'),
          aclFile: path.join(out, 'loa.acl'),
          configFile: path.join(out, 'loa.conf'),
        }
        writeSecret(written.passwordFile, files.passwordFile)
        writeSecret(written.aclFile, files.aclFile, 0o644)
        writeSecret(written.configFile, files.configSnippet, 0o644)
        const users = files.passwordFile.split('\n').filter(Boolean).length
        ctx.out.result({ ...written, users }, () => [
          `Đã ghi / written ${users} tài khoản / accounts:`,
          `  ${written.passwordFile} (0600)`,
          `  ${written.aclFile}`,
          `  ${written.configFile}`,
          'Nạp lại Mosquitto / reload Mosquitto: kill -HUP $(pidof mosquitto)',
        ])
      }),
    )
}
