import fs from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { action, examples } from './command.js'
import { confirm } from './confirm.js'
import type { DeviceHardware, DeviceSpec } from './device-files.js'
import { writeDevice } from './device-files.js'
import { fetchSigningKey } from './device-setup.js'
import { registerProvision } from './devices-provision.js'
import { registerDeviceTest } from './devices-test.js'
import { CliError, EXIT } from './exit.js'

interface Cluster {
  id: string
  name: string
  unitId: string
  online: boolean
  lastSeenAt: string | null
  agentVersion: string | null
  zones: { id: string; name: string }[]
  desiredVersion: number | null
  appliedVersion: number | null
}
interface CredentialStatus {
  state: 'none' | 'active' | 'revoked'
  generation: number
  issuedAt: string | null
  revokedAt: string | null
  connected?: boolean
}

const enc = encodeURIComponent

export function registerDevices(program: Command): void {
  const devices = program
    .command('devices')
    .description('Thiết bị (hộp điều khiển cụm loa) / devices (loudspeaker cluster boxes)')
    .addHelpText(
      'after',
      examples(
        'loa devices provision --id qt-0001 --unit 19345 --out ./the-nho --qr',
        'loa devices list --unit 19345',
        'loa devices test qt-0001 --zone cho --seconds 3',
      ),
    )

  registerProvision(devices)

  devices
    .command('list')
    .description('Liệt kê thiết bị / list devices')
    .option('--unit <unit>', 'chỉ trong đơn vị này (cả cây con) / only under this unit (whole subtree)')
    .addHelpText(
      'after',
      examples('loa devices list', 'loa devices list --unit 19345', 'loa --json devices list'),
    )
    .action(
      action(async (ctx, o: { unit?: string }) => {
        const q = o.unit ? `?unitId=${enc(o.unit)}` : ''
        const { clusters } = await ctx.api().get<{ clusters: Cluster[] }>(`/api/clusters${q}`)
        const devicesDoc = clusters.map((c) => ({
          id: c.id,
          name: c.name,
          unitId: c.unitId,
          online: c.online,
          lastSeenAt: c.lastSeenAt,
          agentVersion: c.agentVersion,
        }))
        ctx.out.result({ devices: devicesDoc }, () =>
          devicesDoc.length === 0
            ? ['Không có thiết bị / no devices']
            : devicesDoc.map(
                (d) =>
                  `${d.online ? '●' : '○'} ${d.id}\t${d.unitId}\t${d.online ? 'trực tuyến/online' : 'ngoại tuyến/offline'}\t${d.lastSeenAt ?? '-'}\t${d.name}`,
              ),
        )
      }),
    )

  devices
    .command('show')
    .description(
      'Chi tiết một thiết bị: trạng thái, mật khẩu MQTT, lần cuối thấy / one device: status, credentials, last seen',
    )
    .argument('<id>', 'mã thiết bị / device id')
    .addHelpText('after', examples('loa devices show qt-0001', 'loa --json devices show qt-0001'))
    .action(
      action(async (ctx, id: string) => {
        const api = ctx.api()
        const c = await api.get<Cluster>(`/api/clusters/${enc(id)}`)
        const credentials = await api.get<CredentialStatus>(`/api/clusters/${enc(id)}/credentials`)
        const doc = { ...c, credentials }
        ctx.out.result(doc, () => [
          `${c.id} — ${c.name}`,
          `  đơn vị / unit: ${c.unitId}`,
          `  trạng thái / status: ${c.online ? 'trực tuyến / online' : 'ngoại tuyến / offline'}`,
          `  lần cuối thấy / last seen: ${c.lastSeenAt ?? '-'}`,
          `  phiên bản / agent version: ${c.agentVersion ?? '-'}`,
          `  vùng / zones: ${c.zones.map((z) => `${z.id} (${z.name})`).join(', ') || '-'}`,
          `  trạng thái mong muốn / desired state: v${c.desiredVersion ?? '-'}, đã áp dụng / applied v${c.appliedVersion ?? '-'}`,
          `  thông tin đăng nhập / credentials: ${credentials.state} (lần / generation ${credentials.generation}` +
            `${credentials.issuedAt ? `, cấp / issued ${credentials.issuedAt}` : ''}` +
            `${credentials.revokedAt ? `, thu hồi / revoked ${credentials.revokedAt}` : ''})` +
            `${credentials.connected === undefined ? '' : credentials.connected ? ', đang kết nối / connected' : ''}`,
        ])
      }),
    )

  devices
    .command('revoke')
    .description(
      'Thu hồi thiết bị: ngắt ngay, không kết nối lại được / revoke a device: disconnected, refused on reconnect',
    )
    .argument('<id>', 'mã thiết bị / device id')
    .option('--yes', 'không hỏi lại / do not ask for confirmation')
    .addHelpText('after', examples('loa devices revoke qt-0001', 'loa devices revoke qt-0001 --yes'))
    .action(
      action(async (ctx, id: string, o: { yes?: boolean }) => {
        const api = ctx.api()
        await api.get(`/api/clusters/${enc(id)}`)
        if (!(await confirm(`Thu hồi / revoke ${id}?`, o.yes))) {
          ctx.out.result({ revoked: false, id }, () => 'Đã huỷ / cancelled')
          return EXIT.failed
        }
        const s = await api.post<CredentialStatus>(`/api/clusters/${enc(id)}/revoke`)
        ctx.out.result({ revoked: true, id, credentials: s }, () => [
          `Đã thu hồi / revoked ${id} (${s.revokedAt ?? ''})`,
          `Cấp lại bằng / re-enable with: loa devices rotate ${id} --out DIR`,
        ])
      }),
    )

  devices
    .command('rotate')
    .description('Cấp mật khẩu MQTT mới và ghi lại agent.json / new credentials, agent.json rewritten')
    .argument('<id>', 'mã thiết bị / device id')
    .requiredOption('--out <dir>', 'thư mục đã dùng khi cấp / the directory used when provisioning')
    .addHelpText('after', examples('loa devices rotate qt-0001 --out ./the-nho'))
    .action(
      action(async (ctx, id: string, o: { out: string }) => {
        const api = ctx.api()
        const out = path.resolve(o.out)
        const file = path.join(out, id, 'agent.json')
        let old: Record<string, unknown>
        try {
          old = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
        } catch (err) {
          throw new CliError(
            'LOA_CLI_NO_INPUT',
            `Không đọc được / cannot read ${file} (${(err as Error).message}); cấp lại bằng / provision again with ` +
              '`loa devices provision --force`',
            EXIT.noInput,
          )
        }
        const c = await api.get<Cluster>(`/api/clusters/${enc(id)}`)
        const cred = await api.post<{ username: string; password: string; generation: number }>(
          `/api/clusters/${enc(id)}/credentials`,
        )
        const key = await fetchSigningKey(api)
        const mqtt = old.mqtt as { url: string }
        const zones = (old.zones ?? []) as {
          id: string
          label?: string
          relay: { driver: string; chip?: string; line?: number }
        }[]
        const spec: DeviceSpec = {
          id,
          name: c.name,
          unitId: c.unitId,
          zones: zones.map((z) => ({ id: z.id, name: z.label ?? z.id })),
        }
        const hw: DeviceHardware = {
          output: String(old.output),
          relay: (zones[0]?.relay.driver ?? 'simulated') as DeviceHardware['relay'],
          chip: zones[0]?.relay.chip ?? '',
          lines: zones.map((z) => z.relay.line ?? 0),
        }
        const dir = path.join(out, id)
        const read = (f: string) =>
          fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : undefined
        const caPem = read('ca.crt')
        const certPem = read('client.crt')
        const keyPem = read('client.key')
        const w = await writeDevice(
          out,
          spec,
          {
            mqttUrl: mqtt.url,
            controlPlaneUrl: String(old.controlPlaneUrl),
            username: cred.username,
            password: cred.password,
            controlPlaneKey: key,
            ...(caPem ? { caPem } : {}),
            ...(certPem && keyPem ? { client: { certPem, keyPem } } : {}),
          },
          hw,
          {
            qr: fs.existsSync(path.join(dir, 'qr.svg')),
            passwordHash: (old.technician as { passwordHash: string }).passwordHash,
          },
        )
        const { technicianPassword: _p, ...doc } = w
        ctx.out.result({ ...doc, generation: cred.generation }, () => [
          `Đã cấp mật khẩu MQTT mới / new credentials for ${id} (lần / generation ${cred.generation})`,
          `  ${w.agentConfig}`,
          `  ${w.bootFile}`,
          'Cài lại lên hộp (thẻ nhớ hoặc /etc/loa/agent.json); mật khẩu cũ đã hết hiệu lực / install on the box; the old one no longer works.',
        ])
      }),
    )

  registerDeviceTest(devices)
}
