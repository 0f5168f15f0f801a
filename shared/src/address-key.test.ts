import { describe, expect, it } from 'vitest'
import { addressKey } from './address-key.js'

describe('addressKey', () => {
  it('keeps IPv4, unmaps IPv4-mapped IPv6, and groups IPv6 by /64', () => {
    expect(addressKey('203.113.1.7')).toBe('203.113.1.7')
    expect(addressKey('::ffff:203.113.1.7')).toBe('203.113.1.7')
    expect(addressKey('2402:800:1234:5678::1')).toBe('2402:800:1234:5678::/64')
    expect(addressKey('2402:0800:1234:5678:aaaa:bbbb:cccc:dddd')).toBe('2402:800:1234:5678::/64')
    expect(addressKey('2402:800::5678:1:2')).toBe('2402:800:0:0::/64')
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(addressKey('1::2:3:4:5:1.2.3.4')).toBe('1:0:2:3::/64')
    expect(addressKey(undefined)).toBe('unknown')
    expect(addressKey('not an address')).toBe('unknown')
  })
})
