import fs from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import type { Api } from './api.js'
import { issueCert, LIFETIME_DAYS, loadCa } from './ca-store.js'
import { action, type Ctx, examples } from './command.js'
import { type CsvProblem, problemLines, readCsv } from './csv.js'
import {
  type DeviceConnection,
  type DeviceHardware,
  localPageUrl,
  type WrittenDevice,
  writeDevice,
} from './device-files.js'
import { checkDevice, type DeviceInput, type DeviceRow } from './device-rows.js'
import { deviceUrls, fetchSigningKey, type ProvisionOptions } from './device-setup.js'
import { CliError, EXIT, usageError } from './exit.js'
import { withScratch } from './openssl.js'
import { progress } from './progress.js'

type Col = 'id' | 'unit' | 'name' | 'zones' | 'tags' | 'lat' | 'lon' | 'gpioLines'
const COLUMNS: { key: Col; names: string[]; required: boolean }[] = [
  { key: 'id', names: ['id', 'device_id', 'ma_thiet_bi', 'mã_thiết_bị'], required: true },
  { key: 'unit', names: ['unit', 'unit_id', 'unit_code', 'don_vi', 'đơn_vị'], required: true },
  { key: 'name', names: ['name', 'ten', 'tên'], required: false },
  { key: 'zones', names: ['zones', 'vung', 'vùng'], required: false },
  { key: 'tags', names: ['tags', 'nhan', 'nhãn'], required: false },
  { key: 'lat', names: ['lat', 'latitude', 'vi_do', 'vĩ_độ'], required: false },
  { key: 'lon', names: ['lon', 'lng', 'longitude', 'kinh_do', 'kinh_độ'], required: false },
  { key: 'gpioLines', names: ['gpio_lines', 'gpio'], required: false },
]

interface Unit {
  id: string
  code: string | null
}
interface Planned extends DeviceRow {
  unitId: string
  /** The cluster exists but never got credentials (an interrupted run): carry on from there. */
  resume: boolean
}
interface Failure {
  id: string
  line: number
  error: CliError
}

const where = (line: number) => (line === 0 ? 'flags' : `line ${line}`)

/** Every device is checked against the file, the control plane and the output directory before anything is done. */
async function plan(api: Api, rows: DeviceRow[], problems: CsvProblem[], out: string, force: boolean) {
  const [{ units }, { clusters }] = await Promise.all([
    api.get<{ units: Unit[] }>('/api/units'),
    api.get<{ clusters: { id: string; unitId: string }[] }>('/api/clusters'),
  ])
  const byId = new Map(units.map((u) => [u.id, u]))
  const byCode = new Map(units.filter((u) => u.code).map((u) => [u.code as string, u]))
  const existing = new Map(clusters.map((c) => [c.id, c]))
  const seen = new Map<string, number>()
  const planned: Planned[] = []
  for (const r of rows) {
    const at = (message: string) => problems.push({ line: r.line, message })
    const first = seen.get(r.id)
    if (first !== undefined) {
      at(`id: "${r.id}" trùng dòng / repeats ${where(first)}`)
      continue
    }
    seen.set(r.id, r.line)
    const unit = byId.get(r.unitRef) ?? byCode.get(r.unitRef)
    if (!unit) {
      at(`unit: không có đơn vị / no unit with id or code "${r.unitRef}"`)
      continue
    }
    let resume = false
    const cluster = existing.get(r.id)
    if (cluster) {
      const cred = await api.get<{ state: string }>(`/api/clusters/${encodeURIComponent(r.id)}/credentials`)
      if (cred.state !== 'none' || cluster.unitId !== unit.id) {
        at(
          `id: "${r.id}" đã được cấp; dùng \`loa devices rotate\` / already provisioned; use \`loa devices rotate\``,
        )
        continue
      }
      resume = true
    }
    if (!force && fs.existsSync(path.join(out, r.id))) {
      at(`id: ${path.join(out, r.id)} đã có; dùng --force / already exists; pass --force to overwrite`)
      continue
    }
    planned.push({ ...r, unitId: unit.id, resume })
  }
  return planned
}

async function provisionOne(
  api: Api,
  d: Planned,
  base: Omit<DeviceConnection, 'username' | 'password'>,
  o: ProvisionOptions,
  hw: DeviceHardware,
  out: string,
) {
  if (!d.resume) {
    await api.post('/api/clusters', {
      id: d.id,
      name: d.name,
      unitId: d.unitId,
      zones: d.zones,
      tags: d.tags,
      lat: d.lat,
      lon: d.lon,
    })
  }
  const cred = await api.post<{ username: string; password: string }>(
    `/api/clusters/${encodeURIComponent(d.id)}/credentials`,
  )
  let client: DeviceConnection['client']
  if (o.ca && o.clientCert) {
    client = await withScratch(async (tmp) => {
      const c = await issueCert(o.ca as string, {
        kind: 'device',
        commonName: d.id,
        days: LIFETIME_DAYS.device,
        outDir: tmp,
        stem: 'client',
        force: true,
      })
      return { certPem: fs.readFileSync(c.cert, 'utf8'), keyPem: fs.readFileSync(c.key, 'utf8') }
    })
  }
  const conn: DeviceConnection = { ...base, username: cred.username, password: cred.password, client }
  const device = { ...hw, lines: d.gpioLines ?? hw.lines }
  return writeDevice(out, d, conn, device, { qr: o.qr === true })
}

/** A failure that concerns every device (no access, no control plane): stop instead of failing them one by one. */
const systemic = (err: unknown) =>
  err instanceof CliError && (err.exitCode === EXIT.auth || err.exitCode === EXIT.unavailable)

export async function provision(ctx: Ctx, o: ProvisionOptions): Promise<number> {
  if ((o.csv === undefined) === (o.id === undefined)) {
    throw usageError('Cần đúng một trong --id hoặc --csv / exactly one of --id or --csv is required')
  }
  if (o.id !== undefined && o.unit === undefined)
    throw usageError('--unit là bắt buộc với --id / --unit is required with --id')
  const out = path.resolve(o.out)
  const problems: CsvProblem[] = []
  let inputs: DeviceInput[]
  if (o.csv !== undefined) {
    const csv = readCsv(path.resolve(o.csv), COLUMNS)
    problems.push(...csv.problems)
    inputs = csv.rows.map((r) => ({ line: r.line, ...r.values }))
  } else {
    inputs = [
      {
        line: 0,
        id: o.id as string,
        unit: o.unit as string,
        name: o.name ?? '',
        zones: o.zones ?? '',
        tags: o.tags ?? '',
        lat: o.lat ?? '',
        lon: o.lon ?? '',
        gpioLines: '',
      },
    ]
  }
  const hw = hardware(o)
  const rows = inputs.map((i) => checkDevice(i, problems)).filter((r): r is DeviceRow => r !== null)
  const api = ctx.api()
  const urls = deviceUrls(api.conn.apiUrl, o)
  let caPem: string | undefined
  if (o.ca) {
    loadCa(o.ca)
    caPem = fs.readFileSync(path.join(o.ca, 'ca.crt'), 'utf8')
  }
  const planned = await plan(api, rows, problems, out, o.force === true)
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line)
    throw new CliError(
      'LOA_CLI_DEVICE_ROWS',
      [
        `${problems.length} lỗi, không cấp thiết bị nào / problems, no device provisioned`,
        ...problemLines(problems),
      ].join('\n'),
      EXIT.data,
      { problems },
    )
  }
  const key = await fetchSigningKey(api)
  const base = { ...urls, controlPlaneKey: key, ...(caPem ? { caPem } : {}) }
  const bar = progress(ctx.out, planned.length, 'Cấp thiết bị / provisioning')
  const done: (WrittenDevice & { unitId: string; resumed: boolean; technicianPassword: string | null })[] = []
  const failed: Failure[] = []
  const notAttempted: string[] = []
  let stopped = false
  for (const d of planned) {
    if (stopped) {
      notAttempted.push(d.id)
      continue
    }
    try {
      const w = await provisionOne(api, d, base, o, hw, out)
      done.push({ ...w, unitId: d.unitId, resumed: d.resume })
    } catch (err) {
      const e = err instanceof CliError ? err : new CliError('LOA_CLI_INTERNAL', String(err), EXIT.internal)
      failed.push({ id: d.id, line: d.line, error: e })
      stopped = systemic(e)
    }
    bar.tick(d.id)
  }
  bar.stop()
  const doc = {
    out,
    devices: done.map(({ technicianPassword: _p, ...w }) => w),
    failed: failed.map((f) => ({
      id: f.id,
      line: f.line,
      error: { code: f.error.code, message: f.error.message },
    })),
    notAttempted,
  }
  ctx.out.result(doc, () => {
    const lines = [`Đã cấp / provisioned ${done.length}/${planned.length} thiết bị / devices → ${out}`]
    for (const w of done) {
      lines.push(`  ✓ ${w.id} (${w.unitId})${w.resumed ? ' [tiếp tục / resumed]' : ''}: ${w.dir}`)
      if (planned.length === 1 && w.technicianPassword) {
        lines.push(
          `    Mật khẩu kỹ thuật viên (chỉ hiện một lần) / technician password (shown once): ${w.technicianPassword}`,
        )
      }
      lines.push(`    trang kỹ thuật / local page: ${localPageUrl(w.id)}`)
    }
    for (const f of failed) lines.push(`  ✗ ${f.id} (${where(f.line)}): ${f.error.message}`)
    if (notAttempted.length > 0) lines.push(`  … chưa làm / not attempted: ${notAttempted.join(', ')}`)
    if (done.length > 0) {
      lines.push(
        'Chép <id>/boot/loa-firstboot.json vào phân vùng boot của thẻ nhớ / copy it to the SD card boot partition.',
      )
    }
    return lines
  })
  if (failed.length === 0) return EXIT.ok
  if (done.length > 0) return EXIT.partial
  return failed[0]?.error.exitCode ?? EXIT.failed
}

function hardware(o: ProvisionOptions): DeviceHardware {
  if (!['gpiod', 'sysfs', 'simulated'].includes(o.relay))
    throw usageError('--relay: gpiod | sysfs | simulated')
  const lines = o.gpioLines.split(',').map(Number)
  if (lines.some((n) => !Number.isInteger(n) || n < 0 || n > 4095))
    throw usageError('--gpio-lines: số nguyên / integers')
  return { output: o.output, relay: o.relay as DeviceHardware['relay'], chip: o.gpioChip, lines }
}

export function registerProvision(devices: Command): void {
  devices
    .command('provision')
    .description(
      'Cấp danh tính, mật khẩu MQTT và tệp cấu hình cho một hoặc nhiều hộp / create identity, credentials and ' +
        'config files for one box or many',
    )
    .option('--id <id>', 'mã thiết bị (một hộp) / device id (one box)')
    .option('--unit <unit>', 'mã hoặc id đơn vị / unit id or code (with --id)')
    .option('--name <name>', 'tên cụm loa / cluster name (default: the id)')
    .option('--zones <zones>', 'vùng / zones "cho:Chợ,truong:Trường" (default: one zone "main")')
    .option('--tags <tags>', 'nhãn / tags "market,coast"')
    .option('--lat <lat>', 'vĩ độ / latitude')
    .option('--lon <lon>', 'kinh độ / longitude')
    .option(
      '--csv <file>',
      'nhiều hộp từ CSV / many boxes from a CSV: id,unit,name,zones,tags,lat,lon,gpio_lines',
    )
    .requiredOption('--out <dir>', 'thư mục ghi / output directory (one sub-directory per device)')
    .option('--qr', 'thêm mã QR in lên hộp / add a QR code to print on the box (no secrets)')
    .option('--mqtt-url <url>', 'địa chỉ MQTT cho hộp / broker URL the box uses (or LOA_DEVICE_MQTT_URL)')
    .option(
      '--device-api-url <url>',
      'địa chỉ API cho hộp / control plane URL the box uses (or LOA_DEVICE_API_URL)',
    )
    .option('--output <output>', 'đầu ra âm thanh / audio output', 'alsa:plughw:CARD=Headphones,DEV=0')
    .option('--relay <driver>', 'gpiod | sysfs | simulated', 'gpiod')
    .option('--gpio-chip <label>', 'chip GPIO / GPIO chip label', 'pinctrl-bcm2711')
    .option(
      '--gpio-lines <lines>',
      'một chân mỗi vùng / one line per zone, in order',
      '17,27,22,23,24,25,5,6',
    )
    .option('--ca <dir>', 'CA của tỉnh: ca.crt vào hộp / province CA directory: ca.crt goes to the box')
    .option(
      '--client-cert',
      'cấp cả chứng chỉ máy khách (cần --ca) / also issue a client certificate (needs --ca)',
    )
    .option('--force', 'ghi đè thư mục đã có / overwrite existing output directories')
    .addHelpText(
      'after',
      examples(
        'loa devices provision --id qt-0001 --unit 19345 --name "Cụm loa chợ Gio Linh" --out ./the-nho --qr',
        'loa devices provision --id qt-0002 --unit 19345 --zones "cho:Chợ,truong:Trường" --out ./the-nho',
        'loa devices provision --csv thiet-bi.csv --out ./the-nho --qr --mqtt-url mqtts://mqtt.quangtri.gov.vn:8883 --ca /srv/loa-ca',
        'loa --json devices provision --csv thiet-bi.csv --out ./the-nho',
      ),
    )
    .action(
      action(async (ctx, o: ProvisionOptions) => {
        if (o.clientCert && !o.ca) throw usageError('--client-cert cần --ca / needs --ca')
        return provision(ctx, { ...o, ca: o.ca ? path.resolve(o.ca) : undefined })
      }),
    )
}
