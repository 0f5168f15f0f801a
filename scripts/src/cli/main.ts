#!/usr/bin/env node
import { Command, CommanderError } from 'commander'
import { registerBackup } from './backup.js'
import { registerCa } from './ca.js'
import { examples } from './command.js'
import { registerDevices } from './devices.js'
import { EXIT } from './exit.js'
import { registerInit } from './init.js'
import { registerKeys } from './keys.js'
import { registerLogin } from './login.js'
import { registerMosquitto } from './mosquitto.js'
import { registerTokens } from './tokens.js'
import { registerUnits } from './units.js'

/** `loa`: set up a province and provision its boxes from the command line (docs/cli.md). */
const program = new Command('loa')
  // Before any subcommand is added, so they all inherit it: usage errors exit 64, not commander's 1.
  .exitOverride()
  .showHelpAfterError('(loa <lệnh> --help để xem hướng dẫn / for help)')
  .description(
    'Quản trị Loa từ dòng lệnh: tỉnh, đơn vị hành chính, thiết bị, chứng chỉ.\n' +
      'Administer Loa from the command line: province, administrative units, devices, certificates.',
  )
  .version('0.1.0')
  .option('--api <url>', 'địa chỉ API máy chủ điều khiển / control plane API URL (or LOA_API_URL)')
  .option('--token <token>', 'mã API / API token (or LOA_TOKEN)')
  .option('--profile <file>', 'tệp hồ sơ / profile file (or LOA_PROFILE; default ~/.config/loa/profile.json)')
  .option('--json', 'một tài liệu JSON trên stdout, cho script / one JSON document on stdout, for scripts')
  .addHelpText(
    'after',
    examples(
      'loa init --data-dir /var/lib/loa --province-code 45 --province-name "Quảng Trị" --admin admin',
      'loa units import don-vi.csv --dry-run',
      'loa devices provision --csv thiet-bi.csv --out ./the-nho --qr',
      'loa --json devices list --unit 45',
      'loa backup --data-dir /var/lib/loa --out /srv/sao-luu/',
    ),
  )

registerInit(program)
registerCa(program)
registerUnits(program)
registerDevices(program)
registerLogin(program)
registerTokens(program)
registerKeys(program)
registerMosquitto(program)
registerBackup(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (!(err instanceof CommanderError)) throw err
  // Help and version end with exitCode 0; every other commander error is a usage error.
  process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage
  if (process.exitCode !== 0 && process.argv.includes('--json')) {
    process.stdout.write(
      `${JSON.stringify({ error: { code: 'LOA_CLI_USAGE', message: err.message, exitCode: EXIT.usage } }, null, 2)}\n`,
    )
  }
}
// Keep-alive sockets must not hold the process open once the work is done; but a pipe takes large output
// asynchronously, so wait until stdout and stderr have handed everything over before exiting.
const flushed = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => s.write('', () => resolve()))
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit(process.exitCode ?? 0)
