import { randomInt } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { hashPassword } from '@loa/shared/password-hash'
import QRCode from 'qrcode'
import { CliError, EXIT } from './exit.js'
import { ensureDir, writeSecret } from './files.js'

/**
 * What a box needs, written per device under `<out>/<id>/`:
 *   agent.json                  the agent's config (/etc/loa/agent.json), with the MQTT secret: 0600
 *   boot/loa-firstboot.json     the same files bundled for the SD card's FAT boot partition (firmware-images/)
 *   technician-password.txt     the local page's password, the only copy (agent.json holds its scrypt hash)
 *   qr.svg, qr.png              with --qr: device id, unit and local page address, no secrets
 */

export const LOCAL_PAGE_PORT = 8090
export const BOOT_FILE = 'loa-firstboot.json'

export interface DeviceHardware {
  output: string
  relay: 'gpiod' | 'sysfs' | 'simulated'
  chip: string
  /** One line per zone, in zone order. */
  lines: number[]
}

export interface DeviceSpec {
  id: string
  name: string
  unitId: string
  zones: { id: string; name: string }[]
}

export interface DeviceConnection {
  mqttUrl: string
  controlPlaneUrl: string
  username: string
  password: string
  controlPlaneKey: { keyId: string; publicKey: string }
  /** Province CA certificate (PEM) for mqtts:// and https://, installed as /etc/loa/ca.crt. */
  caPem?: string
  /** Device client certificate and key (PEM), installed as /etc/loa/client.{crt,key}. */
  client?: { certPem: string; keyPem: string }
}

export interface WrittenDevice {
  id: string
  dir: string
  agentConfig: string
  bootFile: string
  technicianPasswordFile: string
  qr: string[]
}

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'

/** 12 characters a technician can read off a label and type on a phone (≈ 59 bits), grouped by four. */
export function technicianPassword(): string {
  const c = Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')
  return `${c.slice(0, 4)}-${c.slice(4, 8)}-${c.slice(8)}`
}

/** The host name the first-boot script gives the box (mDNS: `<host>.local`). */
export const hostnameFor = (id: string): string =>
  `loa-${id.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63).replace(/-+$/, '')

export const localPageUrl = (id: string): string => `http://${hostnameFor(id)}.local:${LOCAL_PAGE_PORT}/`

const ETC = '/etc/loa'

export function agentConfig(
  spec: DeviceSpec,
  conn: DeviceConnection,
  hw: DeviceHardware,
  passwordHash: string,
): Record<string, unknown> {
  const tls = conn.caPem !== undefined
  return {
    deviceId: spec.id,
    mqtt: { url: conn.mqttUrl, username: conn.username, password: conn.password },
    controlPlaneUrl: conn.controlPlaneUrl,
    controlPlaneKey: conn.controlPlaneKey,
    ...(tls || conn.client
      ? {
          tls: {
            ...(tls ? { caFile: `${ETC}/ca.crt` } : {}),
            ...(conn.client ? { certFile: `${ETC}/client.crt`, keyFile: `${ETC}/client.key` } : {}),
          },
        }
      : {}),
    dataDir: '/var/lib/loa',
    output: hw.output,
    zones: spec.zones.map((z, i) => ({
      id: z.id,
      label: z.name,
      relay:
        hw.relay === 'simulated'
          ? { driver: 'simulated' }
          : { driver: hw.relay, chip: hw.chip, line: hw.lines[i] },
    })),
    localPage: { port: LOCAL_PAGE_PORT, host: '0.0.0.0', maxRelaySeconds: 300 },
    technician: { passwordHash },
    timezone: 'Asia/Ho_Chi_Minh',
    logLevel: 'info',
  }
}

/** Writes one device's files into `<out>/<id>.partial/` then renames it into place: all of them, or none. */
export async function writeDevice(
  out: string,
  spec: DeviceSpec,
  conn: DeviceConnection,
  hw: DeviceHardware,
  opts: { qr: boolean; technicianPassword?: string; passwordHash?: string },
): Promise<WrittenDevice & { technicianPassword: string | null }> {
  const final = path.join(out, spec.id)
  const tmp = path.join(out, `.${spec.id}.partial`)
  fs.rmSync(tmp, { recursive: true, force: true })
  ensureDir(tmp)
  const password = opts.passwordHash ? null : (opts.technicianPassword ?? technicianPassword())
  const hash = opts.passwordHash ?? (await hashPassword(password as string))
  const config = agentConfig(spec, conn, hw, hash)
  const configText = `${JSON.stringify(config, null, 2)}\n`
  writeSecret(path.join(tmp, 'agent.json'), configText)
  const files: Record<string, string> = { 'agent.json': configText }
  if (conn.caPem) {
    writeSecret(path.join(tmp, 'ca.crt'), conn.caPem, 0o644)
    files['ca.crt'] = conn.caPem
  }
  if (conn.client) {
    writeSecret(path.join(tmp, 'client.crt'), conn.client.certPem, 0o644)
    writeSecret(path.join(tmp, 'client.key'), conn.client.keyPem)
    files['client.crt'] = conn.client.certPem
    files['client.key'] = conn.client.keyPem
  }
  const boot = { version: 1, deviceId: spec.id, hostname: hostnameFor(spec.id), files }
  writeSecret(path.join(tmp, 'boot', BOOT_FILE), `${JSON.stringify(boot, null, 2)}\n`)
  if (password) {
    writeSecret(
      path.join(tmp, 'technician-password.txt'),
      `# Mật khẩu trang kỹ thuật của ${spec.id} / technician page password for ${spec.id}\n${password}\n`,
    )
  }
  const qr: string[] = []
  if (opts.qr) {
    // Scanned by a technician's phone: opens the box's page; identifies the box. No secrets.
    const url = `${localPageUrl(spec.id)}?device=${encodeURIComponent(spec.id)}&unit=${encodeURIComponent(spec.unitId)}`
    const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
    writeSecret(path.join(tmp, 'qr.svg'), svg, 0o644)
    const png = await QRCode.toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 8 })
    writeSecret(path.join(tmp, 'qr.png'), png, 0o644)
    qr.push(path.join(final, 'qr.svg'), path.join(final, 'qr.png'))
  }
  // Keep a previous technician password file when only credentials are rotated.
  const oldPassword = path.join(final, 'technician-password.txt')
  if (!password && fs.existsSync(oldPassword))
    fs.copyFileSync(oldPassword, path.join(tmp, 'technician-password.txt'))
  try {
    fs.rmSync(final, { recursive: true, force: true })
    fs.renameSync(tmp, final)
  } catch (err) {
    throw new CliError(
      'LOA_CLI_CANT_CREATE',
      `Không ghi được / cannot write ${final}: ${(err as Error).message}`,
      EXIT.cantCreate,
    )
  }
  return {
    id: spec.id,
    dir: final,
    agentConfig: path.join(final, 'agent.json'),
    bootFile: path.join(final, 'boot', BOOT_FILE),
    technicianPasswordFile: path.join(final, 'technician-password.txt'),
    qr,
    technicianPassword: password,
  }
}
