import { isIPv4, isIPv6 } from 'node:net'

/**
 * The key per-address limits count under: an IPv4 address as is (an IPv4-mapped IPv6 address becomes its IPv4
 * form), an IPv6 address by its /64 prefix, since one host or one subscriber holds a whole /64 and could rotate
 * through it. Anything else (a missing address on a closed socket) is one shared key.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1] as string
  if (isIPv4(address)) return address
  const bare = address.replace(/%.*$/, '')
  if (!isIPv6(bare)) return 'unknown'
  const [head = '', tail = ''] = bare.split('::')
  const left = head ? head.split(':') : []
  const right = bare.includes('::') && tail ? tail.split(':') : []
  // A dotted IPv4 tail (`64:ff9b::1.2.3.4`) stands for two groups.
  const width = (gs: string[]) => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0)
  const groups = bare.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right]
    : left
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`
}
