import { X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { ID_PATTERN } from '@loa/shared'
import { CliError, EXIT, usageError } from './exit.js'
import { ensureDir, writeSecret } from './files.js'
import { generateKey, openssl, randomSerial, subject, withScratch } from './openssl.js'

/**
 * A province's private certificate authority, kept in one directory:
 *   ca.key (0600, the crown jewel: keep it offline), ca.crt, ca.json (province, lifetimes),
 *   server/<name>.{key,crt}, devices/<id>/client.{key,crt} — each issued directory also gets a copy of ca.crt.
 * ECDSA P-256 throughout: small, fast on a Raspberry Pi, supported by Mosquitto, Node and every browser.
 */
export const LIFETIME_DAYS = { ca: 3650, server: 825, device: 1095 } as const

export interface CaInfo {
  province: string
  createdAt: string
  notAfter: string
  fingerprint256: string
}

export interface IssuedCert {
  kind: 'server' | 'device'
  commonName: string
  dir: string
  cert: string
  key: string
  ca: string
  serial: string
  notAfter: string
  fingerprint256: string
  subjectAltName: string | null
}

const HOST_RE = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/
const ID_RE = new RegExp(ID_PATTERN)
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

const caFiles = (dir: string) => ({
  key: path.join(dir, 'ca.key'),
  cert: path.join(dir, 'ca.crt'),
  info: path.join(dir, 'ca.json'),
})

export function checkDays(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw usageError(`--days: phải là số nguyên 1–${max} / must be an integer 1–${max}`)
  return n
}

export async function initCa(dir: string, province: string, days: number): Promise<CaInfo> {
  const name = province.normalize('NFC').trim()
  if (name.length === 0 || name.length > 64 || CONTROL.test(name)) {
    throw usageError(
      '--province: 1–64 ký tự, không có ký tự điều khiển / 1–64 characters, no control characters',
    )
  }
  const f = caFiles(dir)
  if (fs.existsSync(f.key) || fs.existsSync(f.cert)) {
    throw new CliError(
      'LOA_CLI_CA_EXISTS',
      `Đã có CA trong ${dir}, không ghi đè / a CA already exists in ${dir}; not overwritten`,
      EXIT.cantCreate,
    )
  }
  ensureDir(dir)
  await withScratch(async (tmp) => {
    const cnf = path.join(tmp, 'ca.cnf')
    fs.writeFileSync(
      cnf,
      [
        '[req]',
        'distinguished_name = dn',
        '[dn]',
        '[v3_ca]',
        'basicConstraints = critical, CA:TRUE, pathlen:0',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid:always',
        '',
      ].join('\n'),
    )
    const key = path.join(tmp, 'ca.key')
    await generateKey(key)
    const subj = subject([
      ['C', 'VN'],
      ['O', name],
      ['CN', 'Loa province CA'],
    ])
    const crt = path.join(tmp, 'ca.crt')
    await openssl([
      'req',
      '-x509',
      '-new',
      '-utf8',
      '-key',
      key,
      '-sha256',
      '-days',
      String(days),
      '-subj',
      subj,
      '-config',
      cnf,
      '-extensions',
      'v3_ca',
      '-set_serial',
      randomSerial(),
      '-out',
      crt,
    ])
    writeSecret(f.key, fs.readFileSync(key))
    writeSecret(f.cert, fs.readFileSync(crt), 0o644)
  })
  const x = new X509Certificate(fs.readFileSync(f.cert))
  const info: CaInfo = {
    province: name,
    createdAt: new Date().toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    fingerprint256: x.fingerprint256,
  }
  writeSecret(f.info, `${JSON.stringify(info, null, 2)}\n`, 0o644)
  return info
}

export function loadCa(dir: string): CaInfo {
  const f = caFiles(dir)
  if (!fs.existsSync(f.key) || !fs.existsSync(f.cert) || !fs.existsSync(f.info)) {
    throw new CliError(
      'LOA_CLI_CA_MISSING',
      `Không có CA trong ${dir}: chạy \`loa ca init\` trước / no CA in ${dir}: run \`loa ca init\` first`,
      EXIT.noInput,
    )
  }
  return JSON.parse(fs.readFileSync(f.info, 'utf8')) as CaInfo
}

export interface IssueRequest {
  kind: 'server' | 'device'
  commonName: string
  /** server only */
  dns?: string[]
  ips?: string[]
  days: number
  /** Where the key, certificate and a copy of ca.crt go. */
  outDir: string
  /** File name stem: server → `<name>.key`, device → `client.key`. */
  stem: string
  force: boolean
}

function sanFor(r: IssueRequest): string | null {
  if (r.kind === 'device') return null
  const dns = r.dns ?? []
  const ips = r.ips ?? []
  for (const d of dns)
    if (!HOST_RE.test(d) || d.length > 253)
      throw usageError(`--dns: "${d}" không phải tên máy / is not a host name`)
  for (const ip of ips)
    if (net.isIP(ip) === 0) throw usageError(`--ip: "${ip}" không phải địa chỉ IP / is not an IP address`)
  if (dns.length + ips.length === 0)
    throw usageError('Cần ít nhất một --dns hoặc --ip / at least one --dns or --ip is required')
  return [...dns.map((d) => `DNS:${d}`), ...ips.map((ip) => `IP:${ip}`)].join(', ')
}

/** Issues a server (TLS serverAuth, with names) or device (clientAuth, CN = device id) certificate. */
export async function issueCert(caDir: string, r: IssueRequest): Promise<IssuedCert> {
  const ca = loadCa(caDir)
  if (r.kind === 'device' && !ID_RE.test(r.commonName)) {
    throw usageError(`"${r.commonName}" không phải mã thiết bị hợp lệ / is not a valid device id`)
  }
  const san = sanFor(r)
  const out = {
    key: path.join(r.outDir, `${r.stem}.key`),
    cert: path.join(r.outDir, `${r.stem}.crt`),
    ca: path.join(r.outDir, 'ca.crt'),
  }
  if (!r.force && (fs.existsSync(out.key) || fs.existsSync(out.cert))) {
    throw new CliError(
      'LOA_CLI_CERT_EXISTS',
      `${out.cert} đã có; dùng --force để cấp lại / already exists; pass --force to re-issue`,
      EXIT.cantCreate,
    )
  }
  const f = caFiles(caDir)
  await withScratch(async (tmp) => {
    const ext = path.join(tmp, 'ext.cnf')
    fs.writeFileSync(
      ext,
      [
        '[ext]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        `extendedKeyUsage = ${r.kind === 'server' ? 'serverAuth' : 'clientAuth'}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        ...(san ? [`subjectAltName = ${san}`] : []),
        '',
      ].join('\n'),
    )
    const key = path.join(tmp, 'leaf.key')
    const csr = path.join(tmp, 'leaf.csr')
    const crt = path.join(tmp, 'leaf.crt')
    await generateKey(key)
    const subj = subject([
      ['C', 'VN'],
      ['O', ca.province],
      ['OU', r.kind === 'server' ? 'servers' : 'devices'],
      ['CN', r.commonName],
    ])
    await openssl(['req', '-new', '-utf8', '-key', key, '-subj', subj, '-out', csr])
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      f.cert,
      '-CAkey',
      f.key,
      '-set_serial',
      randomSerial(),
      '-days',
      String(r.days),
      '-sha256',
      '-extfile',
      ext,
      '-extensions',
      'ext',
      '-out',
      crt,
    ])
    await openssl(['verify', '-CAfile', f.cert, crt])
    writeSecret(out.key, fs.readFileSync(key))
    writeSecret(out.cert, fs.readFileSync(crt), 0o644)
    writeSecret(out.ca, fs.readFileSync(f.cert), 0o644)
  })
  const x = new X509Certificate(fs.readFileSync(out.cert))
  return {
    kind: r.kind,
    commonName: r.commonName,
    dir: r.outDir,
    ...out,
    serial: x.serialNumber,
    notAfter: new Date(x.validTo).toISOString(),
    fingerprint256: x.fingerprint256,
    subjectAltName: x.subjectAltName ?? null,
  }
}
