import path from 'node:path'
import type { Command } from 'commander'
import { checkDays, type IssuedCert, initCa, issueCert, LIFETIME_DAYS } from './ca-store.js'
import { action, examples } from './command.js'
import { usageError } from './exit.js'

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').filter(Boolean)]

function caDir(opt: string | undefined): string {
  const dir = opt ?? process.env.LOA_CA_DIR
  if (!dir) throw usageError('Cần --dir DIR hoặc LOA_CA_DIR / --dir DIR or LOA_CA_DIR is required')
  return path.resolve(dir)
}

function issuedLines(c: IssuedCert): string[] {
  return [
    `Đã cấp chứng chỉ ${c.kind === 'server' ? 'máy chủ' : 'thiết bị'} / issued ${c.kind} certificate: ${c.commonName}`,
    `  chứng chỉ / certificate: ${c.cert}`,
    `  khoá riêng / private key (0600): ${c.key}`,
    `  CA: ${c.ca}`,
    ...(c.subjectAltName ? [`  tên / names: ${c.subjectAltName}`] : []),
    `  hết hạn / expires: ${c.notAfter}`,
  ]
}

export function registerCa(program: Command): void {
  const ca = program
    .command('ca')
    .description(
      'Cơ quan cấp chứng chỉ riêng của tỉnh / the province private certificate authority (openssl)',
    )
    .addHelpText(
      'after',
      examples(
        'loa ca init --dir /srv/loa-ca --province "Quảng Trị"',
        'loa ca issue server --dir /srv/loa-ca --dns loa.quangtri.gov.vn --ip 10.0.0.5',
        'loa ca issue device qt-0001 --dir /srv/loa-ca',
      ),
    )

  ca.command('init')
    .description('Tạo CA mới (khoá P-256, 10 năm) / create a new CA (P-256 key, 10 years)')
    .option('--dir <dir>', 'thư mục CA / CA directory (or LOA_CA_DIR)')
    .requiredOption(
      '--province <name>',
      'tên tỉnh, ghi vào chứng chỉ / province name, put in the certificates',
    )
    .option('--days <n>', `thời hạn / lifetime in days (default ${LIFETIME_DAYS.ca})`)
    .addHelpText('after', examples('loa ca init --dir /srv/loa-ca --province "Quảng Trị"'))
    .action(
      action(async ({ out }, o: { dir?: string; province: string; days?: string }) => {
        const dir = caDir(o.dir)
        const info = await initCa(dir, o.province, checkDays(o.days, LIFETIME_DAYS.ca, 7300))
        out.result({ dir, cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key'), ...info }, () => [
          `Đã tạo CA cho ${info.province} / created the CA for ${info.province} in ${dir}`,
          `  ca.crt: phân phối cho thiết bị và máy chủ / give to devices and servers`,
          `  ca.key (0600): giữ ngoại tuyến / keep offline`,
          `  hết hạn / expires: ${info.notAfter}`,
          `  SHA-256: ${info.fingerprint256}`,
        ])
      }),
    )

  const issue = ca
    .command('issue')
    .description('Cấp chứng chỉ / issue a certificate')
    .addHelpText(
      'after',
      examples(
        'loa ca issue server --dir /srv/loa-ca --dns loa.example.vn',
        'loa ca issue device qt-0001 --dir /srv/loa-ca',
      ),
    )

  issue
    .command('server')
    .description('Chứng chỉ TLS cho máy chủ (API, MQTT) / TLS server certificate (API, MQTT broker)')
    .option('--dir <dir>', 'thư mục CA / CA directory (or LOA_CA_DIR)')
    .option(
      '--dns <names>',
      'tên DNS (lặp lại hoặc cách bởi dấu phẩy) / DNS name (repeat or comma-separate)',
      collect,
    )
    .option('--ip <addrs>', 'địa chỉ IP (lặp lại được) / IP address (repeatable)', collect)
    .option('--name <name>', 'tên tệp / file name stem', 'server')
    .option('--out <dir>', 'thư mục ghi / output directory (default <ca dir>/server)')
    .option('--days <n>', `thời hạn / lifetime in days (default ${LIFETIME_DAYS.server})`)
    .option('--force', 'cấp lại, ghi đè / re-issue, overwriting')
    .addHelpText(
      'after',
      examples(
        'loa ca issue server --dir /srv/loa-ca --dns loa.quangtri.gov.vn --dns mqtt.quangtri.gov.vn --ip 10.0.0.5',
        'loa ca issue server --dir /srv/loa-ca --name mqtt --dns mqtt.local --out /etc/mosquitto/certs',
      ),
    )
    .action(
      action(
        async (
          { out },
          o: {
            dir?: string
            dns?: string[]
            ip?: string[]
            name: string
            out?: string
            days?: string
            force?: boolean
          },
        ) => {
          const dir = caDir(o.dir)
          if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(o.name))
            throw usageError('--name: letters, digits, _ . -')
          const first = o.dns?.[0] ?? o.ip?.[0] ?? ''
          const c = await issueCert(dir, {
            kind: 'server',
            commonName: first.length <= 64 ? first : o.name,
            dns: o.dns,
            ips: o.ip,
            days: checkDays(o.days, LIFETIME_DAYS.server, 3650),
            outDir: path.resolve(o.out ?? path.join(dir, 'server')),
            stem: o.name,
            force: o.force === true,
          })
          out.result(c, () => issuedLines(c))
        },
      ),
    )

  issue
    .command('device')
    .description(
      'Chứng chỉ máy khách cho thiết bị (CN = mã thiết bị) / device client certificate (CN = device id)',
    )
    .argument('<id>', 'mã thiết bị / device id')
    .option('--dir <dir>', 'thư mục CA / CA directory (or LOA_CA_DIR)')
    .option('--out <dir>', 'thư mục ghi / output directory (default <ca dir>/devices/<id>)')
    .option('--days <n>', `thời hạn / lifetime in days (default ${LIFETIME_DAYS.device})`)
    .option('--force', 'cấp lại, ghi đè / re-issue, overwriting')
    .addHelpText(
      'after',
      examples('loa ca issue device qt-0001 --dir /srv/loa-ca', 'loa --json ca issue device qt-0002'),
    )
    .action(
      action(
        async ({ out }, id: string, o: { dir?: string; out?: string; days?: string; force?: boolean }) => {
          const dir = caDir(o.dir)
          const c = await issueCert(dir, {
            kind: 'device',
            commonName: id,
            days: checkDays(o.days, LIFETIME_DAYS.device, 3650),
            outDir: path.resolve(o.out ?? path.join(dir, 'devices', id)),
            stem: 'client',
            force: o.force === true,
          })
          out.result(c, () => issuedLines(c))
        },
      ),
    )
}
