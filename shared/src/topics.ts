import { PROTOCOL_VERSION } from './version.js'

/**
 * The MQTT topic tree. Everything lives under `{root}/v{N}` so that two protocol versions can run on one broker
 * during an upgrade.
 *
 *   {base}/device/{deviceId}/desired      down  DesiredState          (control plane → one device)
 *   {base}/device/{deviceId}/cmd          down  Command
 *   {base}/device/{deviceId}/receipt      down  Receipt               (outbox entries stored by the control plane)
 *   {base}/unit/{unitId}/cmd              down  Command               (fan-out to every device below a unit)
 *   {base}/device/{deviceId}/ack          up    CommandAck
 *   {base}/device/{deviceId}/reported     up    ReportedState
 *   {base}/device/{deviceId}/telemetry    up    Telemetry
 *   {base}/device/{deviceId}/event        up    DeviceEvent
 *   {base}/device/{deviceId}/play         up    PlayReport            (proof of play)
 *   {base}/device/{deviceId}/presence     up    Presence              (also the MQTT last will)
 */
export const DEVICE_DOWN_CHANNELS = ['desired', 'cmd', 'receipt'] as const
export const DEVICE_UP_CHANNELS = ['ack', 'reported', 'telemetry', 'event', 'play', 'presence'] as const
export type DeviceDownChannel = (typeof DEVICE_DOWN_CHANNELS)[number]
export type DeviceUpChannel = (typeof DEVICE_UP_CHANNELS)[number]
export type DeviceChannel = DeviceDownChannel | DeviceUpChannel

/** Device and unit ids become topic levels: keep them to a safe alphabet (no `/`, `+`, `#`, spaces). */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'
const ID_RE = new RegExp(ID_PATTERN)

export function isValidId(id: string): boolean {
  return ID_RE.test(id)
}

export interface TopicTree {
  readonly base: string
  device(deviceId: string, channel: DeviceChannel): string
  unitCommands(unitId: string): string
  /** Subscription for the control plane: every device's upward channel `channel`. */
  allDevices(channel: DeviceUpChannel): string
  parse(topic: string): ParsedTopic | null
}

export type ParsedTopic =
  | { kind: 'device'; deviceId: string; channel: DeviceChannel }
  | { kind: 'unit'; unitId: string; channel: 'cmd' }

const CHANNELS = new Set<string>([...DEVICE_DOWN_CHANNELS, ...DEVICE_UP_CHANNELS])

export function topicTree(root = 'loa', version: number = PROTOCOL_VERSION): TopicTree {
  if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(root)) {
    throw new Error(`invalid topic root "${root}": use letters, digits, "_" and "-" separated by "/"`)
  }
  const base = `${root}/v${version}`
  const checkId = (id: string, what: string): string => {
    if (!isValidId(id)) throw new Error(`invalid ${what} id "${id}" for a topic level`)
    return id
  }
  return {
    base,
    device: (deviceId, channel) => `${base}/device/${checkId(deviceId, 'device')}/${channel}`,
    unitCommands: (unitId) => `${base}/unit/${checkId(unitId, 'unit')}/cmd`,
    allDevices: (channel) => `${base}/device/+/${channel}`,
    parse(topic) {
      if (!topic.startsWith(`${base}/`)) return null
      const rest = topic.slice(base.length + 1).split('/')
      if (rest.length !== 3) return null
      const [kind, id, channel] = rest as [string, string, string]
      if (!isValidId(id)) return null
      if (kind === 'device' && CHANNELS.has(channel)) {
        return { kind: 'device', deviceId: id, channel: channel as DeviceChannel }
      }
      if (kind === 'unit' && channel === 'cmd') return { kind: 'unit', unitId: id, channel: 'cmd' }
      return null
    },
  }
}
