import { describe, expect, it } from 'vitest'
import { hashPassword, verifyPassword } from './password-hash.js'

describe('password hashes', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('Mật khẩu 123', { N: 2 ** 12 })
    expect(hash).toMatch(/^scrypt\$4096\$8\$1\$/)
    expect(await verifyPassword('Mật khẩu 123', hash)).toBe(true)
    expect(await verifyPassword('Mật khẩu 124', hash)).toBe(false)
  })

  it('salts every hash', async () => {
    const a = await hashPassword('x', { N: 2 ** 10 })
    const b = await hashPassword('x', { N: 2 ** 10 })
    expect(a).not.toBe(b)
  })

  it('treats malformed or hostile stored hashes as a mismatch', async () => {
    for (const bad of [
      '',
      'scrypt$',
      'bcrypt$1$2$3$4$5',
      'scrypt$1099511627776$8$1$AAAAAAAAAAA$AAAA',
      'scrypt$16$8$1$$',
    ]) {
      expect(await verifyPassword('x', bad)).toBe(false)
    }
  })
})
