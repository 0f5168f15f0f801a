import { DEVICE_DOWN_CHANNELS, DEVICE_UP_CHANNELS, type TopicTree } from '@loa/shared'
import type { DeviceCredentialRecord } from '../devices/credentials.js'
import { mosquittoHash } from '../devices/credentials-hash.js'
import type { ClusterInput, Unit } from '../org/model.js'
import type { BrokerIdentity } from './broker-identity.js'
import { CONTROL_PLANE_PUBLISH_MAX_BYTES } from './broker-limits.js'

export interface MosquittoFiles {
  /** `mosquitto_passwd` format: `username:$7$…` per line. */
  passwordFile: string
  /** `acl_file` format. */
  aclFile: string
  /** The listener settings these files expect (paste into mosquitto.conf, adjusting paths). */
  configSnippet: string
}

/**
 * Mosquitto's equivalent of the embedded broker's packet limits (docs/security.md, "Limits"). Its
 * `max_packet_size` is one number for every client and packet (checked from the fixed header, before the body is
 * read), so it is the control plane's largest publish; the per-channel device limits, the CONNECT limit before
 * login, the login timeout and failed-login throttling have no Mosquitto 2.0 setting (see docs/security.md for the
 * firewall rules that stand in for them).
 */
export const MOSQUITTO_LIMITS = [
  '# Limits: a packet declaring more than this (fixed header included) is refused and its client disconnected.',
  `max_packet_size ${CONTROL_PLANE_PUBLISH_MAX_BYTES + 5}`,
  '# A client that stops reading: at most this much queued for it (devices re-send what was not receipted).',
  'max_queued_bytes 16777216',
]

/** Unit ids from the root down to `unitId` (a cycle or a dangling parent ends the walk). */
export function unitsAbove(
  unitById: ReadonlyMap<string, Pick<Unit, 'id' | 'parentId'>>,
  unitId: string,
): string[] {
  const out: string[] = []
  const seen = new Set<string>()
  let u = unitById.get(unitId)
  while (u && !seen.has(u.id)) {
    seen.add(u.id)
    out.unshift(u.id)
    u = u.parentId ? unitById.get(u.parentId) : undefined
  }
  return out
}

/**
 * Mosquitto's password and ACL files for the same rules the embedded broker enforces: devices write only their
 * own upward topics and read only their own downward topics (pattern lines, `%u` = username = device id) and the
 * command topics of the units above them (one `user` block per device); the control plane reads and writes the
 * whole tree, the monitor reads it. Revoked devices are left out of both files.
 */
export function mosquittoFiles(o: {
  topics: TopicTree
  controlPlane: BrokerIdentity | null
  monitor?: BrokerIdentity | null
  credentials: DeviceCredentialRecord[]
  clusters: Pick<ClusterInput, 'id' | 'unitId'>[]
  units: Pick<Unit, 'id' | 'parentId'>[]
  generatedAt?: Date
}): MosquittoFiles {
  const base = o.topics.base
  const at = (o.generatedAt ?? new Date()).toISOString()
  const active = o.credentials.filter((c) => c.revokedAt === null)
  const unitById = new Map(o.units.map((u) => [u.id, u]))
  const unitOf = new Map(o.clusters.map((c) => [c.id, c.unitId]))

  const pw: string[] = []
  if (o.controlPlane) pw.push(`${o.controlPlane.username}:${mosquittoHash(o.controlPlane.password)}`)
  if (o.monitor) pw.push(`${o.monitor.username}:${mosquittoHash(o.monitor.password)}`)
  for (const c of active) pw.push(`${c.deviceId}:${c.secretHash}`)

  const acl: string[] = [
    `# Loa broker ACL, generated ${at} from the control plane's database. Do not edit: regenerate.`,
    '# Devices: own upward topics (write), own downward topics (read). %u is the username = device id.',
    ...DEVICE_UP_CHANNELS.map((ch) => `pattern write ${base}/device/%u/${ch}`),
    ...DEVICE_DOWN_CHANNELS.map((ch) => `pattern read ${base}/device/%u/${ch}`),
    '',
  ]
  if (o.controlPlane) {
    acl.push('# The control plane', `user ${o.controlPlane.username}`, `topic readwrite ${base}/#`, '')
  }
  if (o.monitor) acl.push('# Read-only monitoring', `user ${o.monitor.username}`, `topic read ${base}/#`, '')
  acl.push('# Each device reads the command topics of the units above it.')
  for (const c of active) {
    const unitId = unitOf.get(c.deviceId)
    const chain = unitId ? unitsAbove(unitById, unitId) : []
    if (chain.length === 0) continue
    acl.push(`user ${c.deviceId}`, ...chain.map((u) => `topic read ${base}/unit/${u}/cmd`))
  }
  const configSnippet = [
    '# Loa: every client authenticates; the client id is the username, so no one can take over a session.',
    'per_listener_settings false',
    'allow_anonymous false',
    'password_file /etc/mosquitto/loa.passwd',
    'acl_file /etc/mosquitto/loa.acl',
    'listener 8883',
    'use_username_as_clientid true',
    'certfile /etc/mosquitto/certs/server.crt',
    'keyfile /etc/mosquitto/certs/server.key',
    ...MOSQUITTO_LIMITS,
    '# Reload both files after regenerating them: kill -HUP $(pidof mosquitto)',
  ].join('\n')
  return {
    passwordFile: `${pw.join('\n')}\n`,
    aclFile: `${acl.join('\n')}\n`,
    configSnippet: `${configSnippet}\n`,
  }
}
